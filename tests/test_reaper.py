"""kill -9 of the main `newswatch run` process leaves no child behind.

A real `newswatch run` in a child process: a temporary Prefect API server, the
forkserver and the extraction workers (a feed of 20 pages starts them); one page
hangs so the pass is still fetching when it is killed. Polls /proc with deadlines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from newsroom import SPORT, serve, write_config

from newswatch.reaper import descendants


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(known: dict[int, int]) -> list[int]:
    from newswatch.reaper import _stat

    return [p for p, start in known.items() if (st := _stat(p)) and st[1] == start]


def test_kill_9_of_the_main_process_leaves_no_child(site, tmp_path):
    release = threading.Event()
    pages = [
        {**SPORT, "slug": f"match-report-{i}", "title": f"Match report {i}"} for i in range(20)
    ]
    feed = serve(site, pages)
    site.add_handler(
        "/news/match-report-19.html", lambda _r: (release.wait(60), (200, {}, b"late"))[1]
    )
    cfg = write_config(
        tmp_path / "config",
        store_url="sqlite:///nw.db",
        sources=[{"name": "Sport", "url": feed}],
        settings={"network": {"timeout_seconds": 60}},
    )
    env = {**os.environ, "NEWSWATCH_TEST_SLACK_TOKEN": ""}
    main = subprocess.Popen(
        [sys.executable, "-m", "newswatch.cli", "run", "--config-dir", str(cfg)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    known: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 400
        workers = []
        while time.monotonic() < deadline and main.poll() is None:
            kids = descendants(main.pid)
            known.update(kids)
            servers = [p for p in kids if "forkserver" in _cmdline(p)]
            workers = [p for p in servers if len(descendants(p)) >= 1]
            if workers:
                break
            time.sleep(0.2)
        assert workers, f"extraction workers never started (exit {main.poll()})"
        known.update(descendants(main.pid))
        assert len(known) >= 4, {p: _cmdline(p)[:80] for p in known}  # server, forkserver, ...
        os.kill(main.pid, signal.SIGKILL)
        main.wait(10)
        deadline = time.monotonic() + 10
        while _alive(known) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(known) == [], {p: _cmdline(p)[:80] for p in _alive(known)}
    finally:
        release.set()
        if main.poll() is None:
            main.kill()
        for pid in _alive(known):
            os.kill(pid, signal.SIGKILL)
