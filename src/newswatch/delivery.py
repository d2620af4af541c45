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
from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch.clock import utcnow
from newswatch.models import Alert, Article, Match
from newswatch.notify.base import DeliveryError, Notifier
from newswatch.notify.blocks import (
    alert_message,
    digest_id,
    digest_message,
    event_lead_message,
    notice_message,
)
from newswatch.schema import Topic
from newswatch.store import OutboxRow, Store, process_token


@dataclass
class DeliveryReport:
    sent: int = 0
    pending: int = 0
    failed: int = 0
    held: int = 0  # digest-topic alerts waiting for their period: expected, not a problem
    updated: int = 0  # event leads edited (chat.update) with their outlets and latest news
    problem: str = ""  # one line for the pass summary when something stays queued


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
    store: Store, notifier: Notifier, topics: Sequence[Topic], now: datetime | None = None
) -> DeliveryReport:
    now = now or utcnow()
    report = DeliveryReport()
    token = process_token()
    by_topic = {t.id: t for t in topics}
    rows = store.pending_alerts()
    digests: dict[str, list[OutboxRow]] = defaultdict(list)
    broken = False
    for row in rows:
        if row.delivery == "digest":
            digests[row.topic_id].append(row)
            continue
        if broken:
            report.pending += 1
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
        try:
            if was_unknown:
                found = _already_posted([row], notifier, row.id, message)
                if found is not None:
                    store.mark_sent(row.id, found.channel, found.ts)
                    report.sent += 1
                    continue
            delivery = notifier.send(message)
        except DeliveryError as exc:
            store.release_alert(row.id, exc.reason, permanent=not exc.transient)
            if exc.transient:
                broken = True
                report.pending += 1
                report.problem = exc.reason
            else:
                report.failed += 1
                report.problem = exc.reason
            continue
        store.mark_sent(row.id, delivery.channel, delivery.ts)
        report.sent += 1

    for topic_id, group in digests.items():
        topic = by_topic.get(topic_id)
        period = timedelta(minutes=topic.digest_period_minutes if topic else 60)
        if min(r.created_at for r in group) + period > now:
            report.held += len(group)
            continue
        if broken:
            report.pending += len(group)
            continue
        claimed = [r for r in group if store.claim_alert(r, token)]
        if not claimed:
            continue
        alerts = [row_to_alert(r, store) for r in claimed]
        message = digest_message(alerts[0].topic_name, claimed[0].channel, alerts)
        try:
            unknown = [r for r in claimed if r.status == "sending"]
            found = unknown and _already_posted(claimed, notifier, digest_id(alerts), message)
            delivery = found or notifier.send(message)
        except DeliveryError as exc:
            for r in claimed:
                store.release_alert(r.id, exc.reason, permanent=not exc.transient)
            report.pending += len(claimed)
            report.problem = exc.reason
            continue
        for r in claimed:
            store.mark_sent(r.id, delivery.channel, delivery.ts)
        report.sent += len(claimed)
    if not broken:
        refresh_event_leads(store, notifier, report)
    return report


def refresh_event_leads(store: Store, notifier: Notifier, report: DeliveryReport) -> None:
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
        except DeliveryError as exc:
            report.problem = report.problem or exc.reason
            continue
        store.mark_lead_shown(event_id, delivered)
        report.updated += 1
