"""`newswatch serve`: the pass (and a daily health report) as served Prefect deployments.

Runs against PREFECT_API_URL (env or Prefect profile) when set. Without one it starts
and supervises a real local Prefect server (`newswatch.local_prefect`): Prefect's own
temporary server runs no scheduler, so served schedules would never fire. A
deployment-level concurrency limit of one is the second guard against overlapping
passes (the store's uniqueness is the first).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from datetime import timedelta
from pathlib import Path

from newswatch.schema import Config
from newswatch.watchdog import Watchdog, drop_missed_runs, pass_is_due, say, schedule_interval

PASS_DEPLOYMENT = "newswatch-pass"
HEALTH_DEPLOYMENT = "newswatch-source-health"


def schedule_kwargs(config: Config) -> dict:
    s = config.settings.schedule
    if s.cron:
        return {"cron": s.cron}
    return {"interval": timedelta(minutes=s.interval_minutes or 15)}


def _sigterm_as_interrupt() -> None:
    """Containers stop with SIGTERM: treat it like Ctrl-C so the runner shuts down cleanly."""

    def handler(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def local_server_home(config: Config) -> tuple[Path, bool]:
    """(PREFECT_HOME for the local server, whether it is throw-away): next to a SQLite
    store (so the UI's run history survives restarts), else a temporary directory."""
    url = config.settings.store.url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///")).resolve().parent / "prefect-server", False
    return Path(tempfile.mkdtemp(prefix="newswatch-prefect-")), True


def serve(config: Config, shard: str | None = None, run_now: bool = False) -> None:
    """Serve until SIGINT/SIGTERM; with no Prefect API configured, bring a local server."""
    from newswatch.local_prefect import LocalPrefectServer
    from newswatch.setup_check import prefect_api

    _sigterm_as_interrupt()  # from here on, SIGTERM unwinds through every `finally`
    api = prefect_api()
    if api:
        say(f"using the Prefect API at {api}")
        with contextlib.suppress(KeyboardInterrupt):
            _serve(config, shard, run_now, own_server=False)
        return
    home, throwaway = local_server_home(config)
    server = LocalPrefectServer(home)
    try:
        say(f"starting a local Prefect server (scheduler on), home {home}")
        with contextlib.suppress(KeyboardInterrupt):
            server.start()
            say(f"Prefect UI: {server.ui_url}  (API {server.api_url}, log {server.log_path})")
            _serve_against(server.api_url, config, shard, run_now)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not skip the stop
            signal.signal(sig, signal.SIG_IGN)
        server.stop()
        if throwaway:
            shutil.rmtree(home, ignore_errors=True)


def _serve_against(api_url: str, config: Config, shard: str | None, run_now: bool) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    os.environ["PREFECT_API_URL"] = api_url  # the runner's flow-run processes inherit it
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            _serve(config, shard, run_now, own_server=True)
    finally:
        os.environ.pop("PREFECT_API_URL", None)


def _serve(config: Config, shard: str | None, run_now: bool, *, own_server: bool) -> None:
    from prefect import serve as prefect_serve
    from prefect.deployments.runner import EntrypointType

    from newswatch.flows.health import source_health_report
    from newswatch.flows.monitor import monitor_pass

    config_dir = str(Path(config.config_dir).resolve())
    suffix = f"-shard-{shard.replace('/', 'of')}" if shard else ""
    pass_dep = monitor_pass.to_deployment(
        name=PASS_DEPLOYMENT + suffix,
        parameters={"config_dir": config_dir, "shard": shard},
        concurrency_limit=1,
        entrypoint_type=EntrypointType.MODULE_PATH,
        **schedule_kwargs(config),
    )
    deployments = [pass_dep]
    if not shard or shard.startswith("0/"):
        deployments.append(
            source_health_report.to_deployment(
                name=HEALTH_DEPLOYMENT,
                parameters={"config_dir": config_dir},
                cron="0 7 * * *",
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    interval = schedule_interval(config)
    reason = "--run-now" if run_now else None
    if reason is None and pass_is_due(config, interval):
        reason = "a pass is due at start-up"
    name = f"newswatch-pass/{pass_dep.name}"
    if own_server and (missed := drop_missed_runs(name)):
        say(f"dropped {missed} scheduled run(s) missed while newswatch was not running")
    watchdog = Watchdog(name, interval, run_now=reason)
    watchdog.start()
    try:
        # pausing on shutdown deletes the future scheduled runs; serving again un-pauses
        prefect_serve(*deployments, limit=2)
    finally:
        watchdog.stop()
