"""`newswatch serve`: the pass (and a daily health report) as served Prefect deployments.

Runs against PREFECT_API_URL when set, else Prefect starts a local temporary
server for the process. A deployment-level concurrency limit of one is the second
guard against overlapping passes (the store's uniqueness is the first).
"""

from __future__ import annotations

import contextlib
import signal
from datetime import timedelta
from pathlib import Path

from newswatch.schema import Config

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


def serve(config: Config, shard: str | None = None) -> None:
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
    _sigterm_as_interrupt()
    with contextlib.suppress(KeyboardInterrupt):
        prefect_serve(*deployments, limit=2)
