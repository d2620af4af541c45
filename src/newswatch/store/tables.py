"""The store's tables: one definition for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = (
    2  # 2: delivery_faults, alerts.queued_at, source_state.degraded, articles.refetch_*
)

metadata = MetaData()

schema_info = Table(
    "schema_info",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("canonical_url", String(2048), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("source", String(255), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("text_hash", String(64), nullable=False),
    Column("published", DateTime(timezone=True)),
    Column("language", String(16)),
    Column("extraction", String(16), nullable=False, default="page"),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("story_id", String(64), nullable=False, index=True),
    Column("embedding", LargeBinary),
    # the page failed (5xx, timeout) and the feed summary stands in: fetch it again then
    Column("refetch_at", DateTime(timezone=True), index=True),
    Column("refetch_tries", Integer, nullable=False, default=0),
)

seen_urls = Table(
    "seen_urls",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("canonical_url", String(2048), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

story_alerts = Table(
    "story_alerts",
    metadata,
    Column("topic_id", String(128), primary_key=True),
    Column("story_id", String(64), primary_key=True),
    Column("lead_alert_id", String(64), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("topic_id", String(128), nullable=False, index=True),
    Column("story_id", String(64), nullable=False),
    Column("article_url", String(2048), nullable=False),
    Column("kind", String(16), nullable=False),  # lead | followup
    Column("lead_alert_id", String(64)),
    Column("channel", String(255), nullable=False),
    Column("delivery", String(16), nullable=False, default="immediate"),
    # pending|sending|sent|failed|expired; a pending alert's last_error says what it waits for
    Column("status", String(16), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("claimed_by", String(255)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("slack_channel", String(64)),
    Column("slack_ts", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("queued_at", DateTime(timezone=True)),  # put back by `outbox retry`: ages from here
)

source_state = Table(
    "source_state",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_attempt", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("last_new_item_at", DateTime(timezone=True)),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("items_last_poll", Integer, nullable=False, default=0),
    Column("articles_total", Integer, nullable=False, default=0),
    Column("extraction_failures", Integer, nullable=False, default=0),
    Column("broken", Boolean, nullable=False, default=False),
    Column("degraded", Text),  # polled, but only in part (e.g. cut at the size limit): why
)

passes = Table(
    "passes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("summary", JSON),
)

# Fixable delivery faults already announced to the operator (one notice per fault).
delivery_faults = Table(
    "delivery_faults",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("channel", String(255), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)

# Events: outlets' write-ups of one happening (newswatch.events). One lead per (topic, event).
events = Table(
    "events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("topic_id", String(128), nullable=False, index=True),
    Column("lead_alert_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("lead_shown", Integer, nullable=False, default=0),  # write-ups the lead message shows
)

event_alerts = Table(
    "event_alerts",
    metadata,
    Column("topic_id", String(128), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("lead_alert_id", String(64), nullable=False),
)

event_members = Table(
    "event_members",
    metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False, index=True),
    Column("topic_id", String(128), nullable=False, index=True),
    Column("story_id", String(64), nullable=False),
    Column("source", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("stage", String(32), nullable=False, default=""),
    Column("development", String(32), nullable=False, default=""),
    Column("facts", JSON, nullable=False),
    Column("vector", LargeBinary),
)

# An analyst's verdict on (topic, article): one row per person, the latest wins. The text
# judged is kept with it, so training never depends on the article still being stored
# (imported labels have no stored article at all). Added in schema 1 by create_all.
labels = Table(
    "labels",
    metadata,
    Column("topic_id", String(128), primary_key=True),
    Column("article_key", String(2048), primary_key=True),  # canonical URL or a given id
    Column("who", String(255), primary_key=True),
    Column("value", Integer, nullable=False),  # 1 relevant, 0 not relevant
    Column("source", String(16), nullable=False),  # slack | cli | file
    Column("text_hash", String(64), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)

# The reactions the last pass saw on each alert, per person: only a change (added,
# removed, switched) touches `labels`, so a later CLI label is not overwritten by an
# old reaction that is still there.
label_reactions = Table(
    "label_reactions",
    metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("who", String(255), primary_key=True),
    Column("value", Integer, nullable=False),
)
