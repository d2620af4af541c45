"""The serve-side watchdog: a due first run, the next run time, and a loud "nothing is running".

A served deployment whose schedule never fires looks exactly like a healthy idle
service (that is how the temporary-server bug went unnoticed), so a thread asks
the Prefect API what it has scheduled and when a pass last started, and says so
on stderr: the next run at start-up, a warning when no scheduled pass has started
within twice the interval.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from newswatch.schema import Config

CHECK_SECONDS = 5.0


def say(line: str) -> None:
    print(f"newswatch serve: {line}", file=sys.stderr, flush=True)


def schedule_interval(config: Config) -> timedelta | None:
    """The gap between runs: the interval, or for a cron the gap between its next two times."""
    s = config.settings.schedule
    if not s.cron:
        return timedelta(minutes=s.interval_minutes or 15)
    try:
        from cronsim import CronSim  # Prefect's own cron library

        it = CronSim(s.cron, datetime.now(UTC))
        first = next(it)
        return next(it) - first
    except Exception:
        return None


def pass_is_due(config: Config, interval: timedelta | None) -> bool:
    """Due at start-up: no pass ever, or the last one started a full interval ago."""
    from newswatch.store import Store

    store = Store(config.settings.store.url)
    try:
        last = store.last_passes(1)
    finally:
        store.close()
    if not last:
        return True
    started = last[0]["started_at"]
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return interval is not None and datetime.now(UTC) - started >= interval


def drop_missed_runs(deployment: str) -> int:
    """Delete the deployment's scheduled runs whose time passed while nothing served them
    (after a crash or kill -9 of serve): the runner would otherwise run them back to back.
    The due-at-start pass stands in for all of them. Returns how many were dropped."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        try:
            dep = client.read_deployment_by_name(deployment)
        except Exception:  # first start: no such deployment yet
            return 0
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id])),
            flow_run_filter=FlowRunFilter(
                expected_start_time=FlowRunFilterExpectedStartTime(before_=datetime.now(UTC)),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            ),
        )
        for run in runs:
            client.delete_flow_run(run.id)
        return len(runs)


def _when(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Watchdog(threading.Thread):
    """Runs beside `prefect.serve` in the same process, talking to the same Prefect API."""

    def __init__(
        self,
        deployment: str,
        interval: timedelta | None,
        *,
        run_now: str | None,
        out: Callable[[str], None] = say,
        check_seconds: float = CHECK_SECONDS,
    ):
        super().__init__(name="newswatch-watchdog", daemon=True)
        self.deployment = deployment  # "flow-name/deployment-name"
        self.interval = interval
        self.run_now = run_now  # why to start a pass at once (None: don't)
        self.out = out
        self.check_seconds = check_seconds
        self.stopping = threading.Event()
        self.started_at = datetime.now(UTC)
        self.warned_for: datetime | None = None
        self._context = contextvars.copy_context()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        try:  # in the creator's context: Prefect's settings (the API URL) live in contextvars
            self._context.run(self._run)
        except Exception as exc:  # the watchdog must never take the service down
            self.out(f"watchdog stopped: {type(exc).__name__}: {exc}")

    def _run(self) -> None:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            dep = self._wait_for_deployment(client)
            if dep is None:
                return
            if self.run_now:
                run = client.create_flow_run_from_deployment(dep.id, tags=["run-now"])
                self.out(f"{self.run_now}: pass {run.name} runs now, then on schedule")
            announced = False
            failing = False
            while not self.stopping.is_set():
                try:
                    nxt = self._next_scheduled(client, dep.id)
                    if not announced and nxt is not None:
                        self.out(f"next scheduled pass due at {_when(nxt)}")
                        announced = True
                    self._check_overdue(client, dep.id, nxt)
                    failing = False
                except Exception as exc:  # a busy or restarting API: say it once, keep going
                    if not failing:
                        self.out(f"watchdog cannot ask the Prefect API: {type(exc).__name__}")
                    failing = True
                self.stopping.wait(self.check_seconds if announced else 1)

    def _wait_for_deployment(self, client):  # noqa: ANN001, ANN202
        while not self.stopping.is_set():
            try:
                return client.read_deployment_by_name(self.deployment)
            except Exception:  # not registered yet: prefect.serve is still applying it
                self.stopping.wait(1)
        return None

    def _next_scheduled(self, client, dep_id) -> datetime | None:  # noqa: ANN001
        from prefect.client.schemas.filters import (
            DeploymentFilter,
            DeploymentFilterId,
            FlowRunFilter,
            FlowRunFilterExpectedStartTime,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType
        from prefect.client.schemas.sorting import FlowRunSort

        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep_id])),
            flow_run_filter=FlowRunFilter(
                # strictly ahead: a run started for "due now" is not the *next* one
                expected_start_time=FlowRunFilterExpectedStartTime(
                    after_=datetime.now(UTC) + timedelta(seconds=2)
                ),
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.SCHEDULED, StateType.PENDING])
                ),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=1,
        )
        return runs[0].expected_start_time if runs else None

    def _last_start(self, client, dep_id) -> tuple[datetime | None, bool]:  # noqa: ANN001
        """(when the latest pass started or, if later, ended; whether it is still running)."""
        from prefect.client.schemas.filters import (
            DeploymentFilter,
            DeploymentFilterId,
            FlowRunFilter,
            FlowRunFilterStartTime,
        )
        from prefect.client.schemas.sorting import FlowRunSort

        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep_id])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(is_null_=False)),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        if not runs:
            return None, False
        run = runs[0]
        last = max(t for t in (run.start_time, run.end_time) if t is not None)
        return last, bool(run.state and run.state.is_running())

    def _check_overdue(self, client, dep_id, nxt: datetime | None) -> None:  # noqa: ANN001
        if self.interval is None:
            return
        last, running = self._last_start(client, dep_id)
        if running:  # a long pass holds the next one back (concurrency 1): not a stall;
            # and the clock restarts when it ends
            return
        since = max(self.started_at, last) if last else self.started_at
        silent = datetime.now(UTC) - since
        if silent <= 2 * self.interval or self.warned_for == since:
            return
        self.warned_for = since
        minutes = silent.total_seconds() / 60
        planned = f"the next run Prefect has is due {_when(nxt)}" if nxt else "none is scheduled"
        self.out(
            f"WARNING: no pass is running and none has started for {minutes:.1f} min, more "
            f"than twice the {self.interval.total_seconds() / 60:g}-min schedule; {planned}. "
            "Is the Prefect scheduler running (prefect server start, not --no-services), and is "
            "this process the one serving the deployment?"
        )
