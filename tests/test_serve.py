"""`newswatch serve` as users run it: a real Prefect server, scheduled runs, clean shutdown.

Starts `prefect server start` on loopback and `newswatch serve` as separate
processes, like a deployment would; the news site and Slack are loopback servers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from newsroom import SPORT, serve, visit_article, write_config

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, timeout: float, what: str, proc: subprocess.Popen | None = None):
    """Poll `condition` until true (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
    }
    log = (tmp_path / "prefect-server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api"

    def healthy():
        try:
            return requests.get(f"{api}/health", timeout=1).ok
        except requests.RequestException:
            return False

    try:
        _wait_for(healthy, 90, "the Prefect server", proc)
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _runs(api: str, *states: str) -> list[dict]:
    """Flow runs in the given state types (the API lists future scheduled runs first)."""
    query = {"limit": 50, "flow_runs": {"state": {"type": {"any_": list(states)}}}}
    r = requests.post(f"{api}/flow_runs/filter", json=query, timeout=5)
    r.raise_for_status()
    return r.json()


def test_serve_runs_on_schedule_delivers_once_and_stops_cleanly(
    prefect_server, site, slack_server, tmp_path
):
    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
        slack_api_url=slack_server.api_url,
        settings={"schedule": {"interval_minutes": 0.1}},
    )
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "PREFECT_HOME": str(tmp_path / "serve-home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "NEWSWATCH_TEST_SLACK_TOKEN": slack_server.token,
    }
    log = tmp_path / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "newswatch"), "serve", "--config-dir", str(cfg)],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
        try:
            # run ids seen COMPLETED while serving: a run whose process is still exiting when
            # SIGTERM arrives is marked CANCELLED by Prefect's runner, so count them live
            completed: set[str] = set()

            def two_completed():
                completed.update(r["id"] for r in _runs(prefect_server, "COMPLETED"))
                return len(completed) >= 2

            try:
                _wait_for(two_completed, 240, "two completed scheduled runs", proc)
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}\n--- serve log ---\n{log.read_text()[-3000:]}\n"
                    f"--- failed runs ---\n{_runs(prefect_server, 'FAILED', 'CRASHED')}"
                ) from None
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    output = log.read_text()
    assert code == 0, output
    assert "newswatch serve stopped" in output
    assert len(completed) >= 2
    failed = _runs(prefect_server, "FAILED", "CRASHED")
    assert not failed, failed
    alerts = [
        m
        for m in slack_server.messages
        if (m.get("metadata") or {}).get("event_type") == "newswatch_alert"
    ]
    assert len(alerts) == 1, slack_server.messages
    assert alerts[0]["metadata"]["event_payload"]["topic"] == "leader-foreign-visit"
