"""A real local Prefect server that `newswatch serve` starts, supervises and stops.

Why not Prefect's temporary server: the one `prefect.serve` starts for a process
without PREFECT_API_URL runs no scheduler, so served deployments never get a
scheduled run. `prefect server start` runs the scheduler; we give it its own
PREFECT_HOME (its SQLite database and log), a free loopback port, and its own
process group, so stopping newswatch stops every process of the server. If
newswatch itself is killed (-9), the kernel sends the server SIGTERM
(PR_SET_PDEATHSIG), so no orphan keeps the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

STARTUP_TIMEOUT = 180.0  # a first start (database migrations) on a busy 2-core machine
_PR_SET_PDEATHSIG = 1


class ServerStartError(RuntimeError):
    """The local Prefect server exited or never became healthy; the message has its log tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalPrefectServer:
    """`prefect server start` (API, UI, scheduler) on 127.0.0.1:<port>, home `home`."""

    def __init__(self, home: Path, port: int | None = None):
        self.home = Path(home)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.home / "server.log"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="true",
            # the scheduler's full loop runs every 60 s by default; deployments just
            # (re)registered are scheduled by its 5 s "recent deployments" loop anyway
            PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS=os.environ.get(
                "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS", "10"
            ),
            PREFECT_UI_API_URL=self.api_url,
        )
        # the server's database: its own SQLite under PREFECT_HOME unless the user chose one
        if "PREFECT_API_DATABASE_CONNECTION_URL" not in os.environ:
            env.setdefault(
                "PREFECT_SERVER_DATABASE_CONNECTION_URL",
                f"sqlite+aiosqlite:///{self.home / 'prefect.db'}",
            )
        return env

    def start(self, timeout: float = STARTUP_TIMEOUT) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "prefect", "server", "start"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--scheduler", "--no-background"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() kills all of it
                preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, async-signal-safe
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"the local Prefect server exited ({self.proc.returncode}) on start; "
                    f"its log {self.log_path}:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            time.sleep(0.5)
        self.stop()
        raise ServerStartError(
            f"the local Prefect server was not healthy after {timeout:.0f} s; "
            f"its log {self.log_path}:\n{self.log_tail()}"
        )

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.api_url}/health", timeout=2).ok
        except requests.RequestException:
            return False

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM the server's process group, SIGKILL what is left after `grace` seconds."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group, if any
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def __enter__(self) -> LocalPrefectServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
