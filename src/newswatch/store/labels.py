"""Analysts' labels: one verdict per (topic, article, person), the latest wins.

`training_labels` is what `newswatch train` reads: one row per (topic, article),
people's disagreement resolved by majority (a tie goes to the latest label).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, select, update

from newswatch.clock import utcnow
from newswatch.keys import text_hash
from newswatch.models import Label, LabelledText
from newswatch.store.base import StoreBase, _aware, _insert_ignore, in_chunks
from newswatch.store.tables import alerts, label_reactions, labels

SOURCES = ("slack", "cli", "file")


@dataclass(frozen=True)
class ReactionAlert:
    """A posted alert whose reactions may be labels (see newswatch.labels.reactions)."""

    id: str
    topic_id: str
    article_key: str
    kind: str
    lead_alert_id: str | None
    slack_channel: str
    slack_ts: str
    title: str
    evidence: str


def _label(r) -> Label:
    return Label(r.topic_id, r.article_key, r.value, r.source, r.who, _aware(r.at))


def _put(conn, label: Label, title: str, text: str) -> bool:
    """Insert or overwrite a person's label unless the stored one is newer; True if written."""
    if label.value not in (0, 1):
        raise ValueError(f"label value must be 0 or 1, not {label.value!r}")
    if label.source not in SOURCES:
        raise ValueError(f"label source must be one of {SOURCES}, not {label.source!r}")
    key = and_(
        labels.c.topic_id == label.topic_id,
        labels.c.article_key == label.article_key,
        labels.c.who == label.who,
    )
    values = dict(
        value=label.value,
        source=label.source,
        text_hash=text_hash(title, text),
        title=title,
        text=text,
        at=label.at,
    )
    done = conn.execute(update(labels).where(key, labels.c.at <= label.at).values(**values))
    if done.rowcount:
        return True
    return _insert_ignore(
        conn,
        labels,
        topic_id=label.topic_id,
        article_key=label.article_key,
        who=label.who,
        **values,
    )


class LabelStore(StoreBase):
    def put_labels(self, items: Iterable[tuple[Label, str, str]]) -> int:
        """Store (label, title, text) triples in ONE transaction; returns how many were written."""
        with self.engine.begin() as conn:
            return sum(_put(conn, label, title, text) for label, title, text in items)

    def delete_label(
        self, topic_id: str, article_key: str, who: str, source: str | None = None
    ) -> bool:
        q = delete(labels).where(
            labels.c.topic_id == topic_id, labels.c.article_key == article_key, labels.c.who == who
        )
        if source is not None:
            q = q.where(labels.c.source == source)
        with self.engine.begin() as conn:
            return bool(conn.execute(q).rowcount)

    def labels(self, topic_id: str | None = None) -> list[Label]:
        """Every person's current label, oldest first."""
        q = select(labels).order_by(labels.c.at, labels.c.topic_id, labels.c.article_key)
        if topic_id is not None:
            q = q.where(labels.c.topic_id == topic_id)
        with self.engine.connect() as conn:
            return [_label(r) for r in conn.execute(q)]

    def label_counts(self, topic_id: str | None = None) -> list[tuple[str, str, int, int]]:
        """(topic, source, value, count) over every person's current label."""
        cols = (labels.c.topic_id, labels.c.source, labels.c.value)
        q = select(*cols, func.count()).group_by(*cols).order_by(*cols)
        if topic_id is not None:
            q = q.where(labels.c.topic_id == topic_id)
        with self.engine.connect() as conn:
            return [(t, s, int(v), int(n)) for t, s, v, n in conn.execute(q)]

    def labelled_keys(self, topic_id: str, who: str | None = None) -> set[str]:
        """Article keys with a label on `topic_id` (by `who`, or by anyone)."""
        q = select(labels.c.article_key).where(labels.c.topic_id == topic_id)
        if who is not None:
            q = q.where(labels.c.who == who)
        with self.engine.connect() as conn:
            return {k for (k,) in conn.execute(q)}

    def training_labels(self, topic_id: str | None = None) -> list[LabelledText]:
        """One row per (topic, article), sorted by topic then article key.

        Several people may have labelled the same article: the majority of their
        (latest) verdicts wins, and a tie goes to the most recent label. The title
        and text are those of the most recent label (the version last judged).
        """
        q = select(labels)
        if topic_id is not None:
            q = q.where(labels.c.topic_id == topic_id)
        groups: dict[tuple[str, str], list] = defaultdict(list)
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                groups[(r.topic_id, r.article_key)].append(r)
        out = []
        for (topic, key), rows in sorted(groups.items()):
            latest = max(rows, key=lambda r: (_aware(r.at), r.who))
            yes = sum(r.value == 1 for r in rows)
            no = len(rows) - yes
            value = 1 if yes > no else 0 if no > yes else latest.value
            out.append(LabelledText(topic, key, latest.title, latest.text, value))
        return out

    # -- Slack reactions --------------------------------------------------------------------
    def reaction_alerts(self, since: datetime) -> list[ReactionAlert]:
        """Alerts posted to Slack since `since` (with a real channel and ts), oldest first."""
        q = (
            select(alerts)
            .where(
                alerts.c.status == "sent",
                alerts.c.sent_at >= since,
                alerts.c.slack_channel.is_not(None),
                alerts.c.slack_ts.is_not(None),
            )
            .order_by(alerts.c.sent_at)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(q))

        def payload(r) -> dict:
            p = r.payload if isinstance(r.payload, dict) else json.loads(r.payload or "{}")
            return p or {}

        return [
            ReactionAlert(
                id=r.id,
                topic_id=r.topic_id,
                article_key=r.article_url,
                kind=r.kind,
                lead_alert_id=r.lead_alert_id,
                slack_channel=r.slack_channel,
                slack_ts=r.slack_ts,
                title=payload(r).get("title", ""),
                evidence=payload(r).get("evidence", ""),
            )
            for r in rows
        ]

    def reaction_state(self, alert_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """alert id -> {person: value} as the last sync saw it."""
        out: dict[str, dict[str, int]] = defaultdict(dict)
        with self.engine.connect() as conn:
            q = lambda c: select(label_reactions).where(label_reactions.c.alert_id.in_(c))  # noqa: E731
            for r in in_chunks(conn, alert_ids, q):
                out[r.alert_id][r.who] = r.value
        return dict(out)

    def apply_reactions(
        self, alert: ReactionAlert, current: Mapping[str, int], title: str, text: str
    ) -> tuple[int, int]:
        """Turn what changed since the last sync into labels; returns (written, removed).

        A new or switched reaction writes that person's label (source slack); a removed
        one deletes their label only if it still is the Slack one (a later CLI or file
        label by the same person stays).
        """
        now = utcnow()
        written = removed = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(label_reactions).where(label_reactions.c.alert_id == alert.id)
            )
            before = {r.who: r.value for r in rows}
            for who, value in current.items():
                if before.get(who) != value:
                    label = Label(alert.topic_id, alert.article_key, value, "slack", who, now)
                    written += _put(conn, label, title, text)
            for who in before.keys() - current.keys():
                removed += conn.execute(
                    delete(labels).where(
                        labels.c.topic_id == alert.topic_id,
                        labels.c.article_key == alert.article_key,
                        labels.c.who == who,
                        labels.c.source == "slack",
                    )
                ).rowcount
            if before != dict(current):
                conn.execute(delete(label_reactions).where(label_reactions.c.alert_id == alert.id))
                for who, value in current.items():
                    _insert_ignore(conn, label_reactions, alert_id=alert.id, who=who, value=value)
        return written, removed
