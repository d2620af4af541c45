"""Event membership in the store: the "is this the same happening?" decision is taken
inside the enqueue transaction, under a per-topic lock, so concurrent passes agree.

The outbox row, the event (for a lead) and the membership are written in one
transaction: a crash leaves either all of them or none, and the outbox then sends
each row once. `event_alerts` has one row per (topic, event): one lead per event,
as `story_alerts` has per story.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from newswatch.clock import utcnow
from newswatch.keys import alert_id
from newswatch.store.base import StoreBase, _aware, _insert_ignore, joined
from newswatch.store.outbox import OutboxInsert, insert_outbox_row
from newswatch.store.tables import alerts, event_alerts, event_members, events


@dataclass(frozen=True)
class StoredMember:
    """One write-up already in an event (what the event rule compares a new one with)."""

    alert_id: str
    event_id: str
    story_id: str
    source: str
    at: datetime
    stage: str
    development: str
    facts: dict
    vector: np.ndarray
    status: str = ""


# decide(members of the topic near `at`) -> (event id or None for a new event, development)
Decide = Callable[[Sequence[StoredMember]], tuple[str | None, str]]


def _member(r, status: str = "") -> StoredMember:
    vec = np.frombuffer(r.vector, dtype=np.float32) if r.vector else np.zeros(0, np.float32)
    return StoredMember(
        alert_id=r.alert_id,
        event_id=r.event_id,
        story_id=r.story_id,
        source=r.source,
        at=_aware(r.at),
        stage=r.stage or "",
        development=r.development or "",
        facts=r.facts if isinstance(r.facts, dict) else {},
        vector=vec,
        status=status,
    )


class EventStore(StoreBase):
    def lock_event_topics(self, conn: Connection, topic_ids: Sequence[str]) -> None:
        """One event decision per topic at a time, across processes (PostgreSQL; SQLite's
        IMMEDIATE transaction already holds the write lock). Taken in sorted order at the
        start of a transaction, so two passes never wait on each other in a cycle;
        re-taking a lock the transaction holds is a no-op."""
        if not self.is_postgres:
            return
        for topic_id in sorted(set(topic_ids)):
            key = zlib.crc32(f"newswatch-events:{topic_id}".encode()) - 2**31
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")

    def enqueue_event_alert(
        self,
        *,
        topic_id: str,
        story_id: str,
        article_url: str,
        source: str,
        at: datetime,
        stage: str,
        facts: dict,
        vector: np.ndarray,
        window: timedelta,
        decide: Decide,
        channel: str,
        delivery: str,
        score: float,
        payload: dict,
        conn: Connection | None = None,
    ) -> tuple[str, str, str] | None:
        """Queue one write-up as the lead of a new event or a follow-up in its event.

        Returns (alert id, 'lead' | 'followup', event id); None when this article already
        has an alert for the topic (a re-run, a concurrent pass, an updated page).
        With `conn` it joins the caller's transaction (which should have called
        `lock_event_topics` first, so that locks are always taken in one order).
        """
        aid = alert_id(topic_id, story_id, article_url)
        now = utcnow()
        with joined(self.engine, conn) as conn:
            self.lock_event_topics(conn, [topic_id])
            # (SQLite: the transaction began IMMEDIATE, so it already holds the write lock.)
            if conn.execute(select(alerts.c.id).where(alerts.c.id == aid)).first():
                return None
            rows = conn.execute(
                select(event_members).where(
                    and_(
                        event_members.c.topic_id == topic_id,
                        event_members.c.at >= at - window,
                        event_members.c.at <= at + window,
                    )
                )
            ).all()
            event_id, development = decide([_member(r) for r in rows])
            kind, lead = "followup", None
            if event_id is not None:
                lead = conn.execute(
                    select(event_alerts.c.lead_alert_id).where(
                        and_(
                            event_alerts.c.topic_id == topic_id,
                            event_alerts.c.event_id == event_id,
                        )
                    )
                ).scalar()
            if lead is None:
                kind, development = "lead", ""
                event_id = event_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{topic_id}|{aid}").hex
                if not _insert_ignore(
                    conn, event_alerts, topic_id=topic_id, event_id=event_id, lead_alert_id=aid
                ):
                    return None
                conn.execute(
                    events.insert().values(
                        id=event_id, topic_id=topic_id, lead_alert_id=aid, created_at=now,
                        lead_shown=1,
                    )
                )  # fmt: skip
            payload = {**payload, "event_id": event_id, "development": development}
            row = OutboxInsert(aid, topic_id, story_id, article_url, kind, lead, channel, delivery)
            if not insert_outbox_row(conn, row, score, payload, now):
                return None
            conn.execute(
                event_members.insert().values(
                    alert_id=aid,
                    event_id=event_id,
                    topic_id=topic_id,
                    story_id=story_id,
                    source=source,
                    at=at,
                    stage=stage,
                    development=development,
                    facts=facts,
                    vector=np.asarray(vector, dtype=np.float32).tobytes(),
                )
            )
        return aid, kind, event_id

    def event_of(self, alert_id_: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(event_members.c.event_id).where(event_members.c.alert_id == alert_id_)
            ).scalar()

    def event_write_ups(self, event_id: str) -> list[StoredMember]:
        """The event's write-ups in order, each with its alert's delivery status."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(event_members, alerts.c.status)
                .join(alerts, alerts.c.id == event_members.c.alert_id)
                .where(event_members.c.event_id == event_id)
                .order_by(alerts.c.created_at, alerts.c.id)
            ).all()
        return [_member(r, r.status) for r in rows]

    def events_to_refresh(self) -> list[tuple[str, str, int]]:
        """(event id, lead alert id, write-ups delivered) for events whose lead message shows
        fewer write-ups than have been delivered: the lead needs a chat.update."""
        sent = (
            select(event_members.c.event_id, func.count().label("n"))
            .join(alerts, alerts.c.id == event_members.c.alert_id)
            .where(alerts.c.status == "sent")
            .group_by(event_members.c.event_id)
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.id, events.c.lead_alert_id, sent.c.n)
                .join(sent, sent.c.event_id == events.c.id)
                .where(sent.c.n > events.c.lead_shown)
            ).all()
        return [(r.id, r.lead_alert_id, int(r.n)) for r in rows]

    def mark_lead_shown(self, event_id: str, shown: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(events)
                .where(and_(events.c.id == event_id, events.c.lead_shown < shown))
                .values(lead_shown=shown)
            )

    def event_counts(self, since: datetime | None = None) -> dict[str, int]:
        """Events, write-ups (articles) and outlets alerted on, per the event memberships."""
        q = select(
            func.count(func.distinct(event_members.c.event_id)),
            func.count(),
            func.count(func.distinct(event_members.c.source)),
        )
        if since is not None:
            q = q.where(event_members.c.at >= since)
        with self.engine.connect() as conn:
            n_events, n_articles, n_outlets = conn.execute(q).one()
        return {"events": int(n_events), "articles": int(n_articles), "outlets": int(n_outlets)}
