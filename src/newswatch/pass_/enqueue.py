"""Store a chunk's articles into stories and queue one outbox row per new match."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from sqlalchemy.engine import Connection

from newswatch.clock import utcnow
from newswatch.events import EventFacts, EventRule, Member, default_rule, development, facts_of
from newswatch.models import Article, Decision
from newswatch.pass_.analyse import Analysed
from newswatch.pass_.stats import PassStats
from newswatch.schema import Config, Topic
from newswatch.store import Store, StoredMember
from newswatch.stories import StoryIndex


def alert_payload(topic: Topic, article: Article, decision: Decision) -> dict:
    return {
        "topic_name": topic.name,
        "title": article.title,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "source": article.source,
        "published": article.published.isoformat() if article.published else None,
        "score": round(float(decision.score), 4),
        "evidence": decision.evidence.text,
        "detector": decision.detector,
        "example": decision.example,
        "highlight": list(decision.evidence.highlights),
        "extraction": article.extraction,
    }


def deciding(rule: EventRule, facts: EventFacts, vector: np.ndarray, story_id: str):
    """The store's event decision for one write-up: which event (if any) it joins, and
    whether it is a new development of that event (a cancellation, an imposition)."""

    def decide(members: Sequence[StoredMember]) -> tuple[str | None, str]:
        known = [
            Member(m.event_id, m.story_id, EventFacts.from_json(m.facts), m.vector) for m in members
        ]
        event_id, _p = rule.assign(facts, vector, story_id, known)
        if event_id is None:
            return None, ""
        stages = {m.stage for m in members if m.event_id == event_id}
        return event_id, development(stages, facts.stage)

    return decide


def record_and_enqueue(
    analysed: Sequence[Analysed],
    topics: Sequence[Topic],
    store: Store,
    config: Config,
    stats: PassStats,
) -> None:
    """Store articles into stories and write one outbox row per new (topic, article) match."""
    st = config.settings.stories
    urls, stories, matrix = store.recent_embeddings(utcnow() - timedelta(hours=st.window_hours))
    index = StoryIndex(urls, stories, matrix, st.similarity)
    known = store.get_articles([a.article.canonical_url for a in analysed])
    by_id = {t.id: t for t in topics}
    rule = default_rule()
    default_channel = config.settings.slack.default_channel
    rows = []
    for item in analysed:
        prior = known.get(item.article.canonical_url)
        if prior is not None:
            story_id = prior.story_id
        else:
            story_id, _ = index.assign(item.article.canonical_url, item.vector)
        rows.append((item.article, story_id, item.vector))
    # One transaction: an article is stored only with the alerts it makes, so a crash at
    # any point either keeps both (the alerts go out once) or neither (the next pass
    # sees the article as new and decides again).
    with store.transaction() as conn:
        # event locks first, in one order, then the article rows: no lock cycles
        matched = [t for item in analysed for t, d in item.decisions.items() if d.matched]
        store.lock_event_topics(conn, matched)
        outcomes = store.upsert_articles(rows, conn)
        _crash_hook("after-articles")
        _enqueue_matches(analysed, rows, outcomes, by_id, default_channel, store, stats, conn, rule)


def _crash_hook(point: str) -> None:
    """Tests kill the pass here (NEWSWATCH_TEST_CRASH_AT=<point>) to prove nothing is lost."""
    if os.environ.get("NEWSWATCH_TEST_CRASH_AT") == point:
        os._exit(86)


def _enqueue_matches(
    analysed: Sequence[Analysed],
    rows: Sequence[tuple[Article, str, object]],
    outcomes: Sequence[str],
    by_id: dict[str, Topic],
    default_channel: str,
    store: Store,
    stats: PassStats,
    conn: Connection,
    rule: EventRule,
) -> None:
    for item, (art, story_id, _vec), outcome in zip(analysed, rows, outcomes, strict=True):
        if outcome == "new":
            stats.new_articles += 1
        elif outcome == "updated":
            stats.updated_articles += 1
        else:
            continue  # unchanged, or a concurrent pass stored it first: it owns the alerts
        for topic_id, decision in item.decisions.items():
            if not decision.matched:
                continue
            stats.matches += 1
            topic = by_id[topic_id]
            facts = facts_of(art, decision, now=utcnow())
            vector = item.event_vectors.get(topic_id, np.zeros(0, np.float32))
            queued = store.enqueue_event_alert(
                topic_id=topic_id,
                story_id=story_id,
                article_url=art.canonical_url,
                source=art.source,
                at=facts.at,
                stage=facts.stage,
                facts=facts.as_json(),
                vector=vector,
                window=timedelta(days=rule.window_days),
                decide=deciding(rule, facts, vector, story_id),
                channel=topic.channel or default_channel,
                delivery=topic.delivery,
                score=float(decision.score),
                payload=alert_payload(topic, art, decision),
                conn=conn,
            )
            if queued is None:
                continue
            stats.outlets.add(art.source)
            if queued[1] == "lead":
                stats.alerts_queued += 1
                stats.events_new += 1
            else:
                stats.followups_queued += 1
