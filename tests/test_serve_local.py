"""`newswatch serve` on the one-machine path: no PREFECT_API_URL, nothing started beforehand.

serve must bring its own Prefect server (with a scheduler: Prefect's temporary
server has none, so schedules never fired), run passes on a 1-minute schedule, and
leave no process behind on SIGTERM, nor when it is killed -9.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from newsroom import SPORT, serve, visit_article, write_config

from newswatch.local_prefect import die_with_parent

pytestmark = pytest.mark.slow

NEWSWATCH = str(Path(sys.executable).parent / "newswatch")


def _wait_for(condition, timeout: float, what: str, proc: subprocess.Popen, log: Path):
    """Poll `condition` until true (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(
                f"serve exited ({proc.returncode}) waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        time.sleep(0.5)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}:\n{log.read_text()[-3000:]}"
    )


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def _alive_in_group(pgid: int) -> list[int]:
    return [p for p in _pids() if (s := _stat(p)) and s[1] == pgid and s[0] != "Z"]


def _server_pids(port: int) -> list[int]:
    """Live processes of the local Prefect server on `port` (it runs in its own group)."""
    found = []
    for pid in _pids():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"server" in cmd and b"--port" in cmd and str(port).encode() in cmd:
            s = _stat(pid)
            if s and s[0] != "Z":
                found.append(pid)
    return found


def _finished_passes(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(
                "select count(*) from passes where finished_at is not null"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # schema not created yet
            return 0


def _serve_env(tmp_path: Path, slack_server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env["PREFECT_HOME"] = str(tmp_path / "user-prefect-home")  # a user's empty ~/.prefect
    env["NEWSWATCH_TEST_SLACK_TOKEN"] = slack_server.token
    env.pop("PREFECT_LOGGING_LEVEL", None)
    return env


def _config(tmp_path: Path, site, slack_server) -> tuple[Path, Path]:
    feed = serve(site, [visit_article(), SPORT])
    db = tmp_path / "data" / "newswatch.db"
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{db}",
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
        slack_api_url=slack_server.api_url,
        settings={"schedule": {"interval_minutes": 1}},
    )
    return cfg, db


def test_serve_without_prefect_api_runs_on_schedule_and_leaves_nothing(
    site, slack_server, tmp_path
):
    cfg, db = _config(tmp_path, site, slack_server)
    log = tmp_path / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [NEWSWATCH, "serve", "--config-dir", str(cfg)],
            env=_serve_env(tmp_path, slack_server),
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: every process it starts is findable
            preexec_fn=die_with_parent,  # a killed test run must not leave serve running
        )
    port = None
    try:
        ui = _wait_for(
            lambda: re.search(r"Prefect UI: (http://127\.0\.0\.1:(\d+))", log.read_text()),
            180,
            "the Prefect UI address",
            proc,
            log,
        )
        ui_url, port = ui.group(1), int(ui.group(2))
        page = requests.get(ui_url, timeout=10)
        assert page.ok and "<html" in page.text.lower()  # the UI is where serve says
        _wait_for(
            lambda: "next scheduled pass due at" in log.read_text(), 60, "next run", proc, log
        )

        # first start: the due pass runs promptly, then the schedule's: two completed runs,
        # one of them made by Prefect's scheduler (what the temporary server never did)
        def completed() -> list[dict]:
            query = {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}
            r = requests.post(f"{ui_url}/api/flow_runs/filter", json=query, timeout=10)
            return r.json() if r.ok else []

        def two_one_scheduled() -> list[dict] | None:
            runs = completed()
            return runs if len(runs) >= 2 and any(r["auto_scheduled"] for r in runs) else None

        runs = _wait_for(two_one_scheduled, 420, "two completed passes", proc, log)
        assert any("run-now" in r["tags"] for r in runs), runs  # the due-at-start one
        assert _finished_passes(db) >= 2
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert "newswatch serve stopped" in output
    assert "WARNING: no pass is running" not in output
    deadline = time.monotonic() + 30
    while (_alive_in_group(proc.pid) or _server_pids(port)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive_in_group(proc.pid), "serve left processes in its group"
    assert not _server_pids(port), "the local Prefect server outlived serve"
    alerts = [
        m
        for m in slack_server.messages
        if (m.get("metadata") or {}).get("event_type") == "newswatch_alert"
    ]
    assert len(alerts) == 1, slack_server.messages


def test_run_now_and_the_local_prefect_server_dies_with_serve_even_on_kill_9(
    site, slack_server, tmp_path
):
    from newswatch.store import Store

    cfg, db = _config(tmp_path, site, slack_server)
    store = Store(f"sqlite:///{db}")  # a pass just ran: nothing is due
    store.finish_pass(store.start_pass(), {})
    store.close()
    log = tmp_path / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [NEWSWATCH, "serve", "--config-dir", str(cfg), "--run-now"],
            env=_serve_env(tmp_path, slack_server),
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    try:
        ui = _wait_for(
            lambda: re.search(r"Prefect UI: http://127\.0\.0\.1:(\d+)", log.read_text()),
            180,
            "the Prefect UI address",
            proc,
            log,
        )
        port = int(ui.group(1))
        assert _server_pids(port)
        # not due (a pass just ran), but --run-now starts one at once anyway
        _wait_for(lambda: "--run-now: pass" in log.read_text(), 120, "the run-now pass", proc, log)
        assert "due at start-up" not in log.read_text()
        proc.kill()  # SIGKILL: no handler of ours runs
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _server_pids(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _server_pids(port), "the Prefect server outlived a killed serve"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
