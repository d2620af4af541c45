"""The alert outbox: enqueue once per (topic, story, article), claim, mark sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update

from newswatch.clock import utcnow
from newswatch.keys import alert_id
from newswatch.store.base import StoreBase, _aware, _insert_ignore
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
    ) -> tuple[str, str] | None:
        """Write an alert to the outbox before anything is sent.

        Returns (alert id, kind) where kind is 'lead' for the first alert of a
        (topic, story) and 'followup' after; None when this article already has
        an alert for the topic (a re-run, a concurrent pass, an updated page).
        """
        aid = alert_id(topic_id, story_id, article_url)
        now = utcnow()
        with self.engine.begin() as conn:
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
            if not _insert_ignore(
                conn,
                alerts,
                id=aid,
                topic_id=topic_id,
                story_id=story_id,
                article_url=article_url,
                kind=kind,
                lead_alert_id=lead,
                channel=channel,
                delivery=delivery,
                status="pending",
                score=score,
                payload=payload,
                attempts=0,
                created_at=now,
            ):
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
                q = q.where(alerts.c.claimed_by == row.claimed_by)
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            if conn.execute(q).first() is None:
                return False
            cond = and_(alerts.c.id == row.id, alerts.c.status == row.status)
            if row.status == "sending":
                cond = and_(cond, alerts.c.claimed_by == row.claimed_by)
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

    def release_alert(self, alert_id_: str, error: str, *, permanent: bool = False) -> None:
        """Give an alert back to the outbox after a failed send (or fail it for good)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id_)
                .values(
                    status="failed" if permanent else "pending",
                    last_error=error[:2000],
                    claimed_by=None,
                )
            )

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
