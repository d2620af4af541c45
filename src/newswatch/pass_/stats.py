"""What a pass did: counts and stage timings for the summary, the store and Prefect."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newswatch.delivery import DeliveryReport

_STATS_LOCK = threading.Lock()


@dataclass
class SourceTally:
    """Articles a source gave this pass, and how many fell back to the feed summary."""

    articles: int = 0
    fallbacks: int = 0


@dataclass
class PassStats:
    """What a pass did, for the closing summary, the pass record and the Prefect artifact."""

    sources_polled: int = 0
    sources_failed: list[tuple[str, str]] = field(default_factory=list)
    sources_not_modified: int = 0
    sources_degraded: list[tuple[str, str]] = field(default_factory=list)  # read in part
    items_listed: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    extraction_fallbacks: int = 0
    fetch_failures: int = 0
    passages_embedded: int = 0  # passage vectors the detectors read
    texts_encoded: int = 0  # distinct texts through the model (stories, passages, sentences)
    matches: int = 0
    alerts_queued: int = 0
    followups_queued: int = 0
    events_new: int = 0  # events first alerted this pass (each lead is one)
    outlets: set[str] = field(default_factory=set)  # outlets of this pass's alerted write-ups
    alerts_sent: int = 0
    alerts_pending: int = 0
    alerts_held: int = 0  # waiting for their topic's digest period
    alerts_failed: int = 0
    alerts_expired: int = 0
    alerts_reduced: int = 0  # sent as plain text after Slack rejected the rich form
    delivery_problem: str = ""
    delivery_errors: dict[str, int] = field(default_factory=dict)  # error in channel -> alerts
    delivery_faults: list[str] = field(default_factory=list)  # what the operator must fix
    delivery_blocked: bool = False  # nothing delivered because of a fixable fault
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # stage time spent in the background, beside other stages (not part of the pass's sum)
    overlapped: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str, beside: bool = False):
        """Add the block's time to `stage`; `beside`: it runs in another thread, beside the
        stages on the pass's path, so it goes to `overlapped`, not into their sum."""
        into = self.overlapped if beside else self.timings
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with _STATS_LOCK:
                into[stage] = into.get(stage, 0.0) + time.perf_counter() - t0

    def take_delivery(self, report: DeliveryReport) -> None:
        """Fold the outbox delivery into the pass summary (one line when something is stuck)."""
        self.alerts_sent = report.sent
        self.alerts_pending = report.pending
        self.alerts_held = report.held
        self.alerts_failed = report.failed
        self.alerts_expired = report.expired
        self.alerts_reduced = report.reduced
        self.delivery_errors = dict(report.errors)
        self.delivery_faults = list(report.faults)
        self.delivery_blocked = report.blocked_by_fix
        self.notices = [*self.notices, *report.notices]
        if report.pending or report.failed or report.expired or report.reduced:
            failed = f", {report.failed} failed permanently" if report.failed else ""
            expired = f", {report.expired} expired" if report.expired else ""
            self.delivery_problem = (
                f"{report.pending} alert(s) queued for the next pass{failed}{expired}: "
                f"{report.problem}"
            )
            if report.faults:
                self.delivery_problem += " — to fix: " + "; ".join(report.faults)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["sources_failed"] = [list(x) for x in self.sources_failed]
        d["sources_degraded"] = [list(x) for x in self.sources_degraded]
        d["outlets"] = len(self.outlets)
        d["articles_alerted"] = self.alerts_queued + self.followups_queued
        d["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        d["overlapped"] = {k: round(v, 3) for k, v in self.overlapped.items()}
        return d

    def summary_line(self) -> str:
        failed = len(self.sources_failed)
        line = (
            f"sources polled: {self.sources_polled} ({failed} failed), "
            f"new articles: {self.new_articles}, matches: {self.matches}, "
            f"alerts: {self.alerts_queued} new + {self.followups_queued} follow-ups "
            f"(events: {self.events_new} new, articles: "
            f"{self.alerts_queued + self.followups_queued}, outlets: {len(self.outlets)}), "
            f"delivered: {self.alerts_sent}"
        )
        if self.alerts_pending:
            line += f", queued for retry: {self.alerts_pending}"
        if self.alerts_held:
            line += f", held for digest: {self.alerts_held}"
        return line


class DeliveryBlocked(Exception):
    """Nothing could be delivered because of a fault only the operator can fix.

    Raised by the Prefect flow after the pass is recorded, so the flow run ends
    Failed (Prefect's notifications and UI show it); `summary` is the pass summary.
    """

    def __init__(self, summary: dict):
        self.summary = summary
        faults = "; ".join(summary.get("delivery_faults") or []) or "see the pass summary"
        queued = summary.get("alerts_pending", 0)
        super().__init__(f"nothing delivered, {queued} alert(s) queued: fix {faults}")
