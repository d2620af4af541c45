"""What every `newswatch` command shares: the consoles, the config-dir option and
loading the config (and store) with the one-line errors and exit code 2."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's default (20 s) is too short for a first ephemeral start on a busy 2-core
# machine: `make run` on a fresh clone failed with "Timed out ... ephemeral Prefect API"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from newswatch.config import load_config  # noqa: E402
from newswatch.schema import Config, ConfigError  # noqa: E402

err = Console(stderr=True, soft_wrap=True)
out = Console()

ConfigDir = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option(
        "--config-dir",
        "-c",
        help="Config directory (default: $NEWSWATCH_CONFIG_DIR, then ./config).",
        show_default=False,
    ),
]


def load_or_exit(config_dir: Path | None) -> Config:
    """The config, or every problem printed as `file: field: message` and exit 2."""
    try:
        return load_config(config_dir)
    except ConfigError as exc:
        err.print(f"[bold red]config has {len(exc.problems)} problem(s):[/]")
        for p in exc.problems:
            err.print(f"  - {p}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def load_with_store(config_dir: Path | None) -> Config:
    """The config, then the store opened once: a bad store URL is one line and exit 2,
    before any Prefect server, model load or source poll."""
    from newswatch.setup_check import check_store

    cfg = load_or_exit(config_dir)
    finding = check_store(cfg)
    if not finding.ok:
        err.print(finding.line, markup=False, highlight=False)
        raise typer.Exit(2)
    return cfg


def read_jsonl(path: Path) -> list[dict]:
    """Objects with an `id`, one per line; a bad line is named (`file:line`) and exit 2."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                err.print(f"{path}:{n}: not valid JSON: {exc.msg}")
                raise typer.Exit(2) from None
            if not isinstance(rows[-1], dict) or "id" not in rows[-1]:
                err.print(f"{path}:{n}: each line needs an object with an 'id'")
                raise typer.Exit(2)
    return rows
