"""Frozen records passed between the stages of a pass.

Pydantic lives only at the edges (YAML in, Slack out); inside the pipeline
these plain frozen dataclasses keep stages decoupled and cheap to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FeedItem:
    """One entry a source lists: what we know before fetching the page."""

    url: str
    source: str
    title: str = ""
    summary: str = ""
    published: datetime | None = None


@dataclass(frozen=True)
class Article:
    """What extraction yields for one page (or the feed summary as fallback)."""

    url: str
    canonical_url: str
    source: str
    title: str
    text: str
    published: datetime | None = None
    language: str | None = None
    fetched_at: datetime | None = None
    extraction: str = "page"  # "page" | "summary": where `text` came from


@dataclass(frozen=True)
class Evidence:
    """Why a detector decided as it did: what to quote, and what in it counted."""

    text: str = ""  # the sentence (or passage) quoted in the alert
    passage: int | None = None  # index of the passage it came from (0 = title + lead)
    judged: str = ""  # the sentence as the model read it (known names titled)
    why: str = ""  # what made it count, in the analyst's words
    agents: tuple[str, ...] = ()  # "arrived: President Lula": who does the event word
    highlights: tuple[str, ...] = ()  # words of `text` that matched the topic (bold in alerts)
    classifier: float | None = None  # P(topic) of the judged sentence
    base: float | None = None  # blended score before centrality
    centrality: float | None = None
    candidates: int = 0  # sentences that passed the gate
    # event facts for grouping write-ups of one happening (newswatch.events)
    actors: tuple[str, ...] = ()  # people the story is about: "Kim", "Nakasone"
    places: tuple[str, ...] = ()  # ISO codes of the countries involved: ("KP", "RU")


@dataclass(frozen=True)
class Decision:
    """A detector's verdict on one (topic, article) pair, with its reason."""

    score: float
    matched: bool
    evidence: Evidence = Evidence()
    detector: str = ""
    example: str = ""  # the topic example closest to the evidence, if any
    guard: str = ""  # which lexical guard fired, if any ("require_any: ..." / "exclude_any: ...")
    scores: tuple[tuple[str, float], ...] = ()  # every listed kind's score, when several
    model_version: str = ""  # the trained model that decided (`newswatch train`), if any


@dataclass(frozen=True)
class Match:
    """A positive decision tied to its article: what an alert is built from."""

    article: Article
    topic_id: str
    score: float
    evidence: str
    detector: str


@dataclass(frozen=True)
class Alert:
    """One delivery of one match, tracked exactly once through the outbox."""

    id: str
    topic_id: str
    topic_name: str
    story_id: str
    match: Match
    channel: str
    status: str = "pending"  # pending | sent | failed
    slack_ts: str | None = None
    thread_ts: str | None = None  # set when this alert is a follow-up in a story's thread
    other_sources: tuple[str, ...] = ()
    highlight: tuple[str, ...] = ()  # words of the evidence that match the topic, shown in bold
    event_id: str = ""  # the happening this write-up reports (newswatch.events)
    development: str = ""  # a new stage of the event this write-up reports ("cancelled")


@dataclass(frozen=True)
class Label:
    """An analyst's verdict on one (topic, article): what `train` learns from.

    `value` is 1 (relevant) or 0 (not relevant); borderline items are never stored.
    The latest label of a person wins; different people may disagree.
    """

    topic_id: str
    article_key: str  # canonical URL, or the id an imported file gives
    value: int
    source: str  # "slack" | "cli" | "file"
    who: str
    at: datetime


@dataclass(frozen=True)
class LabelledText:
    """A label joined with the article text it judges: one training row."""

    topic_id: str
    article_key: str
    title: str
    text: str
    value: int
