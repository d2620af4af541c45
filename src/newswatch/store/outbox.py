"""The alert outbox: enqueue once per (topic, story, article), claim, mark sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from newswatch.clock import utcnow
from newswatch.keys import alert_id
from newswatch.store.base import StoreBase, _aware, _insert_ignore, joined
from newswatch.store.leases import claim_is_dead
from newswatch.store.tables import alerts, story_alerts


@dataclass(frozen=True)
class OutboxRow:
    id: str
    topic_id: str
    story_id: str
    article_url: str
    kind: str
    lead_alert_id: str | None
    channel: str
    delivery: str
    status: str
    score: float
    payload: dict
    attempts: int
    claimed_by: str | None
    created_at: datetime
    last_error: str | None = None


def _row_to_outbox(r) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        topic_id=r.topic_id,
        story_id=r.story_id,
        article_url=r.article_url,
        kind=r.kind,
        lead_alert_id=r.lead_alert_id,
        channel=r.channel,
        delivery=r.delivery,
        status=r.status,
        score=r.score,
        payload=r.payload if isinstance(r.payload, dict) else json.loads(r.payload),
        attempts=r.attempts,
        claimed_by=r.claimed_by,
        created_at=_aware(r.created_at),
        last_error=r.last_error,
    )


EXPIRED_UNKNOWN = "expired (send interrupted, not known to be posted)"


def _claimed_by(token: str | None):
    return alerts.c.claimed_by.is_(None) if token is None else alerts.c.claimed_by == token


@dataclass(frozen=True)
class OutboxInsert:
    """The identity of a new outbox row (what the lead/follow-up decision produced)."""

    id: str
    topic_id: str
    story_id: str
    article_url: str
    kind: str  # lead | followup
    lead_alert_id: str | None
    channel: str
    delivery: str


def insert_outbox_row(
    conn: Connection, row: OutboxInsert, score: float, payload: dict, now: datetime
) -> bool:
    """Queue one alert; False when a concurrent twin already did (the caller backs off)."""
    return _insert_ignore(
        conn,
        alerts,
        id=row.id,
        topic_id=row.topic_id,
        story_id=row.story_id,
        article_url=row.article_url,
        kind=row.kind,
        lead_alert_id=row.lead_alert_id,
        channel=row.channel,
        delivery=row.delivery,
        status="pending",
        score=score,
        payload=payload,
        attempts=0,
        created_at=now,
    )


class OutboxStore(StoreBase):
    def enqueue_alert(
        self,
        *,
        topic_id: str,
        story_id: str,
        article_url: str,
        channel: str,
        delivery: str,
        score: float,
        payload: dict,
        conn: Connection | None = None,
    ) -> tuple[str, str] | None:
        """Write an alert to the outbox before anything is sent.

        Returns (alert id, kind) where kind is 'lead' for the first alert of a
        (topic, story) and 'followup' after; None when this article already has
        an alert for the topic (a re-run, a concurrent pass, an updated page).
        With `conn` it joins the caller's transaction (see `Store.transaction`).
        """
        aid = alert_id(topic_id, story_id, article_url)
        now = utcnow()
        with joined(self.engine, conn) as conn:
            if conn.execute(select(alerts.c.id).where(alerts.c.id == aid)).first():
                return None
            kind, lead = "lead", None
            if not _insert_ignore(
                conn, story_alerts, topic_id=topic_id, story_id=story_id, lead_alert_id=aid
            ):
                kind = "followup"
                lead = conn.execute(
                    select(story_alerts.c.lead_alert_id).where(
                        and_(
                            story_alerts.c.topic_id == topic_id,
                            story_alerts.c.story_id == story_id,
                        )
                    )
                ).scalar()
            row = OutboxInsert(aid, topic_id, story_id, article_url, kind, lead, channel, delivery)
            if not insert_outbox_row(conn, row, score, payload, now):
                return None
        return aid, kind

    def pending_alerts(self, stale_after: timedelta = timedelta(minutes=10)) -> list[OutboxRow]:
        """Alerts to (re)try: pending ones, and 'sending' ones whose sender died or timed out."""
        cutoff = utcnow() - stale_after
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(alerts)
                .where(alerts.c.status.in_(("pending", "sending")))
                .order_by(alerts.c.created_at, alerts.c.id)
            ).all()
        out = []
        for r in rows:
            if r.status == "sending" and not (
                claim_is_dead(r.claimed_by) or (_aware(r.claimed_at) or cutoff) <= cutoff
            ):
                continue
            out.append(_row_to_outbox(r))
        return out

    def claim_alert(self, row: OutboxRow, token: str) -> bool:
        """Atomically take one outbox row for sending; False if someone else has it."""
        with self.engine.begin() as conn:
            q = select(alerts.c.id).where(
                and_(alerts.c.id == row.id, alerts.c.status == row.status)
            )
            if row.status == "sending":
                q = q.where(_claimed_by(row.claimed_by))
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            if conn.execute(q).first() is None:
                return False
            cond = and_(alerts.c.id == row.id, alerts.c.status == row.status)
            if row.status == "sending":
                cond = and_(cond, _claimed_by(row.claimed_by))
            res = conn.execute(
                update(alerts)
                .where(cond)
                .values(
                    status="sending",
                    claimed_by=token,
                    claimed_at=utcnow(),
                    attempts=alerts.c.attempts + 1,
                )
            )
            return res.rowcount == 1

    def mark_sent(self, alert_id_: str, slack_channel: str, slack_ts: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id_)
                .values(
                    status="sent",
                    slack_channel=slack_channel,
                    slack_ts=slack_ts,
                    sent_at=utcnow(),
                    last_error=None,
                    claimed_by=None,
                )
            )

    def release_alert(
        self, alert_id_: str, error: str, *, permanent: bool = False, needs_lookup: bool = False
    ) -> None:
        """Give an alert back to the outbox after a failed send (or fail it for good).

        `needs_lookup`: whether it was posted is still unknown (the look-up failed), so it
        stays 'sending' with no owner: the next pass looks it up again before any resend.
        """
        status = "failed" if permanent else "sending" if needs_lookup else "pending"
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id_)
                .values(status=status, last_error=error[:2000], claimed_by=None)
            )

    def note_waiting(self, alert_ids: list[str], reason: str) -> None:
        """Record why queued alerts were not tried this pass (a fault blocks their channel)."""
        if not alert_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(and_(alerts.c.id.in_(alert_ids), alerts.c.status == "pending"))
                .values(last_error=reason[:2000])
            )

    def expire_alerts(self, older_than: datetime, days: float) -> list[OutboxRow]:
        """Expire queued alerts created before `older_than` (never silently: the reason stays)."""
        cutoff = _aware(older_than)
        expired = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(alerts).where(
                    and_(
                        alerts.c.status.in_(("pending", "sending")),
                        func.coalesce(alerts.c.queued_at, alerts.c.created_at) < cutoff,
                    )
                )
            ).all()
            for r in rows:
                if r.status == "sending" and not claim_is_dead(r.claimed_by):
                    continue
                label = EXPIRED_UNKNOWN if r.status == "sending" else "expired"
                why = f"{label}: not delivered within {days:g} day(s)"
                reason = f"{why}; last error: {r.last_error}" if r.last_error else why
                res = conn.execute(
                    update(alerts)
                    .where(and_(alerts.c.id == r.id, alerts.c.status == r.status))
                    .values(status="expired", last_error=reason[:2000], claimed_by=None)
                )
                if res.rowcount == 1:
                    expired.append(_row_to_outbox(r))
        return expired

    def outbox_rows(
        self, statuses: tuple[str, ...], topic: str | None = None, alert_id: str | None = None
    ) -> list[OutboxRow]:
        """Alerts in `statuses` (optionally one topic or one id), oldest first."""
        q = select(alerts).where(alerts.c.status.in_(statuses)).order_by(alerts.c.created_at)
        if topic:
            q = q.where(alerts.c.topic_id == topic)
        if alert_id:
            q = q.where(alerts.c.id.like(f"{alert_id}%"))
        with self.engine.connect() as conn:
            return [_row_to_outbox(r) for r in conn.execute(q)]

    def retry_alerts(self, topic: str | None = None, alert_id: str | None = None) -> int:
        """Put failed and expired alerts back in the queue (a fresh age: they may expire again)."""
        rows = self.outbox_rows(("failed", "expired"), topic, alert_id)
        done = 0
        with self.engine.begin() as conn:
            for r in rows:
                # an interrupted send is looked up again before any resend (never twice)
                unknown = (r.last_error or "").startswith(EXPIRED_UNKNOWN)
                res = conn.execute(
                    update(alerts)
                    .where(and_(alerts.c.id == r.id, alerts.c.status == r.status))
                    .values(
                        status="sending" if unknown else "pending",
                        queued_at=utcnow(),
                        claimed_by=None,
                        last_error=f"put back by `newswatch outbox retry` ({r.status})",
                    )
                )
                done += res.rowcount
        return done

    def alert_delivery(self, alert_id_: str) -> tuple[str | None, str | None, str]:
        """(slack channel, ts, status) of an alert: a follow-up threads under its lead's ts."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(alerts.c.slack_channel, alerts.c.slack_ts, alerts.c.status).where(
                    alerts.c.id == alert_id_
                )
            ).first()
        return (r.slack_channel, r.slack_ts, r.status) if r else (None, None, "missing")

    def alerts_for(self, since: datetime | None = None) -> list[OutboxRow]:
        q = select(alerts).order_by(alerts.c.created_at)
        if since is not None:
            q = q.where(alerts.c.created_at >= since)
        with self.engine.connect() as conn:
            return [_row_to_outbox(r) for r in conn.execute(q)]

    def alerts_by_id(self, ids: list[str]) -> list[OutboxRow]:
        if not ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts).where(alerts.c.id.in_(ids))).all()
        return [_row_to_outbox(r) for r in rows]

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts.c.status, func.count()).group_by(alerts.c.status))
            return {s: int(n) for s, n in rows}
