"""Deliver the outbox: every alert exactly once, none lost.

Alerts are written to the store before any send. Here each one is claimed
atomically, sent, and marked with Slack's channel and ts. A failed send goes back
to the outbox for the next pass; a claim whose process died mid-send (outcome
unknown) is first looked up in the channel's history by alert id, so a crash
between "posted" and "marked" never produces a second message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newswatch.clock import utcnow
from newswatch.models import Alert, Article, Match
from newswatch.notify.base import Delivery, DeliveryError, Notifier
from newswatch.notify.blocks import (
    SlackMessage,
    alert_message,
    digest_id,
    digest_message,
    escape,
    event_lead_message,
    notice_message,
    plain_text,
    shorten,
)
from newswatch.notify.faults import REDUCIBLE_CODES, Fault, classify, error_label
from newswatch.schema import Topic
from newswatch.store import OutboxRow, Store, process_token

REDUCED_TEXT_MAX = 3000


@dataclass
class DeliveryReport:
    sent: int = 0
    pending: int = 0
    failed: int = 0
    expired: int = 0
    reduced: int = 0  # sent as plain text after Slack rejected the rich message
    held: int = 0  # digest-topic alerts waiting for their period: expected, not a problem
    updated: int = 0  # event leads edited (chat.update) with their outlets and latest news
    problem: str = ""  # one line for the pass summary: each distinct error with its channel
    errors: dict[str, int] = field(default_factory=dict)  # distinct error -> alerts affected
    notices: list[str] = field(default_factory=list)  # operator notices raised this pass
    unsent_notices: list[str] = field(default_factory=list)  # ... that only the log carries
    faults: list[str] = field(default_factory=list)  # fixable faults seen this pass (words)

    def note(self, label: str, n: int = 1) -> None:
        self.errors[label] = self.errors.get(label, 0) + n
        self.problem = "; ".join(f"{k} ({v} alert(s))" for k, v in self.errors.items())

    @property
    def blocked_by_fix(self) -> bool:
        """Nothing could be delivered and a fault only the operator can fix is why."""
        return bool(self.faults) and self.sent == 0 and (self.pending + self.failed) > 0


class _Gate:
    """What this pass's errors block (every post, one channel, or look-ups) and what worked."""

    def __init__(self, token_env: str):
        self.token_env = token_env
        self.all: str | None = None
        self.channels: dict[str, str] = {}
        self.lookup: str | None = None
        self.faults: dict[str, Fault] = {}
        self.ok_channels: set[str] = set()
        self.any_ok = False
        self.lookup_ok = False

    def blocked(self, channel: str, needs_lookup: bool) -> str | None:
        return self.all or self.channels.get(channel) or (self.lookup if needs_lookup else None)

    def error(self, exc: DeliveryError) -> Fault | None:
        fault = classify(exc, self.token_env)
        label = error_label(exc)
        if fault is not None:
            self.faults.setdefault(fault.key, fault)
        if fault is not None and fault.scope == "channel":
            self.channels[fault.channel] = label
        elif fault is not None and fault.scope == "lookup":
            self.lookup = label
        elif fault is not None or exc.transient:
            self.all = label
        return fault

    def ok(self, channel: str) -> None:
        self.any_ok = True
        self.ok_channels.add(channel)

    def fixed(self, key: str) -> bool:
        if key.startswith("channel:"):
            return key.split(":", 2)[2] in self.ok_channels
        if key.startswith("lookup-scope:"):
            return self.lookup_ok
        return self.any_ok


def reduced_message(message: SlackMessage) -> SlackMessage:
    """The same alert as plain text with truncated evidence: what Slack cannot refuse."""
    text = shorten(" ".join(plain_text(message).split()), REDUCED_TEXT_MAX) or message.text
    return SlackMessage(
        channel=message.channel,
        text=escape(text),
        metadata=message.metadata,  # keeps the alert id, so the look-up still finds it
        thread_ts=message.thread_ts,
    )


def _send(notifier: Notifier, message: SlackMessage, report: DeliveryReport) -> Delivery:
    """Send; a message rejected as too long or malformed goes again in a reduced form."""
    try:
        return notifier.send(message)
    except DeliveryError as exc:
        if exc.code not in REDUCIBLE_CODES:
            raise
        first = exc
    try:
        delivery = notifier.send(reduced_message(message))
    except DeliveryError as exc:
        if exc.code not in REDUCIBLE_CODES:
            raise
        raise DeliveryError(
            f"rejected even as plain text: {exc.reason} (first: {first.reason})",
            transient=False,
            code=exc.code,
            channel=exc.channel,
            method=exc.method,
        ) from exc
    report.reduced += 1
    report.note(f"{error_label(first)}: sent as plain text")
    return delivery


def send_notices(notifier: Notifier, channel: str, notices: Sequence[str]) -> list[str]:
    """Post source-health notices; a notice that cannot be sent is reported, not raised."""
    problems = []
    for text in notices:
        try:
            notifier.send(notice_message(channel, text))
        except DeliveryError as exc:
            problems.append(f"could not send notice ({exc.reason}): {text}")
    return problems


def row_to_alert(row: OutboxRow, store: Store, thread_ts: str | None = None) -> Alert:
    p = row.payload
    published = datetime.fromisoformat(p["published"]) if p.get("published") else None
    article = Article(
        url=p["url"],
        canonical_url=p.get("canonical_url") or row.article_url,
        source=p["source"],
        title=p["title"],
        text="",
        published=published,
        extraction=p.get("extraction", "page"),
    )
    match = Match(article, row.topic_id, row.score, p.get("evidence", ""), p.get("detector", ""))
    return Alert(
        id=row.id,
        topic_id=row.topic_id,
        topic_name=p.get("topic_name", row.topic_id),
        story_id=row.story_id,
        match=match,
        channel=row.channel,
        status=row.status,
        thread_ts=thread_ts,
        other_sources=tuple(
            s
            for s in store.story_sources(row.story_id, exclude_url=row.article_url)
            if s != p["source"]
        ),
        highlight=tuple(p.get("highlight") or ()),
        event_id=p.get("event_id") or "",
        development=p.get("development") or "",
    )


def _already_posted(rows: Sequence[OutboxRow], notifier: Notifier, key: str, message):
    """For a claim whose sender died: did its message reach Slack after all?

    Thread replies are not in a channel's history, so follow-ups are looked up
    in their thread.
    """
    oldest = (min(r.created_at for r in rows) - timedelta(minutes=5)).timestamp()
    return notifier.find_sent(message.channel, key, oldest, thread_ts=message.thread_ts)


def deliver_pending(
    store: Store,
    notifier: Notifier,
    topics: Sequence[Topic],
    now: datetime | None = None,
    *,
    default_channel: str | None = None,
    expire_after_days: float = 7.0,
) -> DeliveryReport:
    """Send what the outbox holds; a fixable fault keeps alerts queued and is named once.

    Token and scope faults stop every post this pass, a channel fault only that
    channel's alerts; operator notices go to `default_channel` when Slack takes them
    (else only to the report, for the log). Alerts queued longer than
    `expire_after_days` are expired with their last error, and announced.
    """
    now = now or utcnow()
    report = DeliveryReport()
    gate = _Gate(getattr(notifier, "token_env", "SLACK_BOT_TOKEN"))
    _expire(store, now, expire_after_days, report)
    token = process_token()
    by_topic = {t.id: t for t in topics}
    rows = store.pending_alerts()
    digests: dict[str, list[OutboxRow]] = defaultdict(list)
    waiting: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.delivery == "digest":
            digests[row.topic_id].append(row)
            continue
        if why := gate.blocked(row.channel, row.status == "sending"):
            report.pending += 1
            report.note(why)
            waiting[why].append(row.id)
            continue
        thread_ts = None
        if row.kind == "followup" and row.lead_alert_id:
            lead_channel, lead_ts, lead_status = store.alert_delivery(row.lead_alert_id)
            if lead_status in ("pending", "sending"):
                report.pending += 1  # thread it once its lead is out
                continue
            thread_ts = lead_ts if lead_status == "sent" else None
        was_unknown = row.status == "sending"
        if not store.claim_alert(row, token):
            continue  # another pass has it
        alert = row_to_alert(row, store, thread_ts)
        message = alert_message(alert)
        if was_unknown:
            found = _look_up(store, notifier, gate, report, [row], row.id, message)
            if found is False:
                continue
            if found is not None:
                store.mark_sent(row.id, found.channel, found.ts)
                report.sent += 1
                continue
        try:
            delivery = _send(notifier, message, report)
        except DeliveryError as exc:
            _failed(store, gate, report, [row], exc)
            continue
        store.mark_sent(row.id, delivery.channel, delivery.ts)
        gate.ok(row.channel)
        report.sent += 1

    for topic_id, group in digests.items():
        topic = by_topic.get(topic_id)
        period = timedelta(minutes=topic.digest_period_minutes if topic else 60)
        if min(r.created_at for r in group) + period > now:
            report.held += len(group)
            continue
        unknown = any(r.status == "sending" for r in group)
        if why := gate.blocked(group[0].channel, unknown):
            report.pending += len(group)
            report.note(why, len(group))
            waiting[why].extend(r.id for r in group)
            continue
        claimed = [r for r in group if store.claim_alert(r, token)]
        if not claimed:
            continue
        alerts = [row_to_alert(r, store) for r in claimed]
        message = digest_message(alerts[0].topic_name, claimed[0].channel, alerts)
        if any(r.status == "sending" for r in claimed):
            found = _look_up(store, notifier, gate, report, claimed, digest_id(alerts), message)
            if found is False:
                continue
            if found is not None:
                for r in claimed:
                    store.mark_sent(r.id, found.channel, found.ts)
                report.sent += len(claimed)
                continue
        try:
            delivery = _send(notifier, message, report)
        except DeliveryError as exc:
            _failed(store, gate, report, claimed, exc)
            continue
        for r in claimed:
            store.mark_sent(r.id, delivery.channel, delivery.ts)
        gate.ok(claimed[0].channel)
        report.sent += len(claimed)

    for why, ids in waiting.items():
        store.note_waiting(ids, f"waiting: {why}")
    if not gate.all:
        refresh_event_leads(store, notifier, gate, report)
    _announce(store, notifier, gate, report, default_channel)
    return report


def _look_up(store, notifier, gate, report, rows, key, message) -> Delivery | None | bool:
    """Did an interrupted send reach Slack? The delivery, None (no), or False (cannot tell:
    the alerts stay unknown, looked up again next pass, never blindly re-sent)."""
    try:
        found = _already_posted(rows, notifier, key, message)
    except DeliveryError as exc:
        gate.error(exc)
        for r in rows:
            store.release_alert(r.id, exc.reason, needs_lookup=True)
        report.pending += len(rows)
        report.note(error_label(exc), len(rows))
        return False
    gate.lookup_ok = True
    if found is not None:
        gate.ok(rows[0].channel)
    return found


def _failed(store, gate, report, rows, exc: DeliveryError) -> None:
    """A send that failed: queued again if it can succeed later or after a fix, else failed."""
    fault = gate.error(exc)
    final = not exc.transient and fault is None
    lost_response = exc.code == "unreachable"  # may have been posted: look up first
    for r in rows:
        store.release_alert(r.id, exc.reason, permanent=final, needs_lookup=lost_response)
    if final:
        report.failed += len(rows)
    else:
        report.pending += len(rows)
    report.note(error_label(exc), len(rows))


def _expire(store: Store, now: datetime, days: float, report: DeliveryReport) -> None:
    expired = store.expire_alerts(now - timedelta(days=days), days)
    by_channel: dict[str, list[OutboxRow]] = defaultdict(list)
    for row in expired:
        by_channel[row.channel].append(row)
    for channel, group in by_channel.items():
        report.expired += len(group)
        report.note(f"expired unsent in {channel}", len(group))
        last = next((r.last_error for r in reversed(group) if r.last_error), None)
        report.notices.append(
            f"{len(group)} alert(s) for {channel} expired unsent after {days:g} day(s)"
            + (f" (last error: {last})" if last else "")
            + "; `newswatch outbox` lists them, `newswatch outbox retry` queues them again"
        )


def _announce(store, notifier, gate, report, default_channel: str | None) -> None:
    """One notice per new fault (none per alert or per pass); forget faults seen fixed."""
    store.clear_faults(k for k in store.open_faults() if k not in gate.faults and gate.fixed(k))
    for key, fault in gate.faults.items():
        report.faults.append(fault.text)
        if store.record_fault(key, fault.channel, fault.text):
            report.notices.append(fault.text)
    for text in report.notices:
        blocked = default_channel is None or gate.blocked(default_channel, False)
        if not blocked:
            try:
                notifier.send(notice_message(default_channel, text))
                continue
            except DeliveryError as exc:
                gate.error(exc)
        report.unsent_notices.append(text)


def refresh_event_leads(
    store: Store, notifier: Notifier, gate: _Gate, report: DeliveryReport
) -> None:
    """chat.update each event's lead with its outlets and latest development, once more of
    its write-ups are delivered than the lead shows. Idempotent (the whole lead is
    re-rendered from the store), so a crash or a failed update is redone next pass."""
    update = getattr(notifier, "update", None)
    for event_id, lead_id, delivered in store.events_to_refresh():
        ups = [m for m in store.event_write_ups(event_id) if m.status == "sent"]
        lead_row = next((r for r in store.alerts_by_id([lead_id])), None)
        channel, ts, status = store.alert_delivery(lead_id)
        digest = lead_row is not None and lead_row.delivery == "digest"
        if lead_row is None or digest or status != "sent" or not ts or update is None:
            store.mark_lead_shown(event_id, delivered)  # nothing to edit (e.g. a digest)
            continue
        rows = {r.id: r for r in store.alerts_by_id([m.alert_id for m in ups])}
        latest_dev = [m for m in ups if m.development]
        last = latest_dev[-1] if latest_dev else ups[-1]
        title = rows[last.alert_id].payload.get("title", "") if last.alert_id in rows else ""
        latest = f"{last.development}: {title}" if last.development else title
        message = event_lead_message(
            row_to_alert(lead_row, store), [m.source for m in ups], latest
        ).model_copy(update={"channel": channel or lead_row.channel})
        try:
            update(message, ts)
        except DeliveryError as exc:  # redone next pass; a fixable fault is announced
            gate.error(exc)
            report.note(f"{error_label(exc)} (updating an event's lead)")
            continue
        store.mark_lead_shown(event_id, delivered)
        report.updated += 1
