"""The layering rules of docs/architecture.md, checked on the real import graph.

import-linter's contracts (in pyproject.toml) hold the layers; this file runs them and
also checks what a contract cannot say: no import cycle at all among our modules
(function-level imports included: grimp reads every import statement), and a config
schema module that imports nothing of ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def assembled(tmp_path_factory) -> Path:
    """The package as the wheel lays it out (flows/ and detectors/ mapped into newswatch):
    static import analysis walks a package's folder, and the mapping is the build's."""
    base = tmp_path_factory.mktemp("assembled")
    shutil.copytree(ROOT / "src" / "newswatch", base / "newswatch")
    for folder in ("flows", "detectors"):
        shutil.copytree(ROOT / folder, base / "newswatch" / folder)
    return base


def _graph(assembled: Path) -> grimp.ImportGraph:
    sys.path.insert(0, str(assembled))
    saved = {k: v for k, v in sys.modules.items() if k == "newswatch" or k.startswith("newswatch.")}
    for k in saved:
        del sys.modules[k]
    try:
        return grimp.build_graph("newswatch", cache_dir=None)
    finally:
        sys.path.remove(str(assembled))
        sys.modules.update(saved)


def test_import_linter_contracts_hold(assembled):
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(assembled)}
    out = subprocess.run(
        [str(lint), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=assembled,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among the project's modules, or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph.modules):
        if state.get(start):
            continue
        path = [start]
        todo = [iter(sorted(graph.find_modules_directly_imported_by(start)))]
        state[start] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(sorted(graph.find_modules_directly_imported_by(nxt))))
    return None


def test_no_import_cycle_among_the_projects_modules(assembled):
    cycle = _cycle(_graph(assembled))
    assert cycle is None, " -> ".join(cycle or [])


def test_the_config_schema_imports_nothing_of_ours(assembled):
    graph = _graph(assembled)
    assert graph.find_modules_directly_imported_by("newswatch.schema") == set()
    assert graph.find_modules_directly_imported_by("newswatch.models") == set()


def test_one_installed_top_level_package():
    import importlib.metadata as md

    tops = sorted(k for k, v in md.packages_distributions().items() if "newswatch" in v)
    assert tops == ["newswatch"]


def test_the_flows_are_wiring_only():
    lines = [
        line
        for path in sorted((ROOT / "flows").glob("*.py"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert len(lines) <= 90, f"flows/ has {len(lines)} non-blank lines; move logic into the core"


def test_every_package_on_disk_is_in_the_wheel():
    """A subpackage missing from pyproject's list works in the editable install and is
    silently absent from the real wheel (the Docker image)."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = set()
    for base, prefix in ((ROOT / "src" / "newswatch", ("newswatch",)),
                         (ROOT / "detectors", ("newswatch", "detectors")),
                         (ROOT / "flows", ("newswatch", "flows"))):  # fmt: skip
        for init in base.rglob("__init__.py"):
            on_disk.add(".".join(prefix + init.parent.relative_to(base).parts))
    assert on_disk == listed
