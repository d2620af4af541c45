"""Frozen records passed between the stages of a pass.

Pydantic lives only at the edges (YAML in, Slack out); inside the pipeline
these plain frozen dataclasses keep stages decoupled and cheap to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
class Decision:
    """A detector's verdict on one (topic, article) pair, with its reason."""

    score: float
    matched: bool
    evidence: str = ""
    detector: str = ""
    example: str = ""  # the topic example closest to the evidence, if any
    guard: str = ""  # which lexical guard fired, if any ("require_any: ..." / "exclude_any: ...")
    details: dict = field(default_factory=dict, compare=False, hash=False)


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
