"""The store's guarantees, on SQLite and on the PostgreSQL at 127.0.0.1:5432 alike."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pytest

from newswatch.models import Article
from newswatch.store import Store, process_token
from newswatch.store.tables import SCHEMA_VERSION


def _article(url: str, text: str = "Body text.", source: str = "Wire") -> Article:
    return Article(
        url=url,
        canonical_url=url,
        source=source,
        title="Title " + url[-3:],
        text=text,
        published=datetime(2015, 1, 28, tzinfo=UTC),
        fetched_at=datetime.now(UTC),
    )


def _enqueue(store: Store, article_url: str, story: str = "s1", topic: str = "t"):
    return store.enqueue_alert(
        topic_id=topic,
        story_id=story,
        article_url=article_url,
        channel="#c",
        delivery="immediate",
        score=0.9,
        payload={"title": "x", "url": article_url, "source": "Wire"},
    )


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def test_schema_is_versioned_and_migrate_is_idempotent(store_url):
    a = Store(store_url)
    b = Store(store_url)  # second start on an existing schema
    from sqlalchemy import text

    with b.engine.connect() as conn:
        assert conn.execute(text("select version from schema_info")).scalar() == SCHEMA_VERSION
    a.close()
    b.close()


def test_articles_are_seen_by_listed_and_canonical_url_and_updates_are_detected(store):
    art = _article("https://example.org/a1")
    vec = np.ones(4, dtype=np.float32) / 2
    assert store.upsert_article(art, "s1", vec) == "new"
    store.mark_seen([("https://example.org/a1?utm_source=x", art.canonical_url)])
    assert store.seen(["https://example.org/a1", "https://example.org/a1?utm_source=x", "z"]) == {
        "https://example.org/a1",
        "https://example.org/a1?utm_source=x",
    }
    assert store.upsert_article(art, "s1", vec) == "unchanged"
    changed = Article(**{**art.__dict__, "text": "Body text, updated."})
    assert store.upsert_article(changed, "s1", vec) == "updated"
    got = store.get_articles([art.canonical_url])[art.canonical_url]
    assert got.article.text == "Body text, updated."
    assert np.allclose(got.embedding, vec)
    urls, stories, matrix = store.recent_embeddings(datetime(2000, 1, 1, tzinfo=UTC))
    assert urls == [art.canonical_url] and stories == ["s1"] and matrix.shape == (1, 4)


def test_one_lead_alert_per_topic_and_story_then_followups(store):
    assert _enqueue(store, "https://a/1")[1] == "lead"
    assert _enqueue(store, "https://a/1") is None  # same article again: nothing
    kind = _enqueue(store, "https://b/1")
    assert kind[1] == "followup"
    assert _enqueue(store, "https://a/1", topic="other")[1] == "lead"
    rows = {r.article_url: r for r in store.pending_alerts() if r.topic_id == "t"}
    assert rows["https://b/1"].lead_alert_id == rows["https://a/1"].id


def test_concurrent_enqueues_of_one_story_make_exactly_one_lead(store):
    urls = [f"https://outlet{i}.example/story" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda u: _enqueue(store, u), urls + urls))
    kinds = [r[1] for r in results if r]
    assert kinds.count("lead") == 1
    assert kinds.count("followup") == 7


def test_an_outbox_row_is_claimed_by_exactly_one_sender(store):
    _enqueue(store, "https://a/1")
    row = store.pending_alerts()[0]
    with ThreadPoolExecutor(6) as pool:
        wins = list(pool.map(lambda _: store.claim_alert(row, process_token()), range(6)))
    assert wins.count(True) == 1
    # claimed by this live process: not offered again to another pass
    assert store.pending_alerts() == []


def test_a_claim_by_a_dead_process_is_offered_again_as_unknown_outcome(store):
    _enqueue(store, "https://a/1")
    row = store.pending_alerts()[0]
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    import socket

    token = f"{socket.gethostname()}:{int(dead.stdout)}:deadbeef"
    assert store.claim_alert(row, token)
    again = store.pending_alerts()
    assert [r.id for r in again] == [row.id] and again[0].status == "sending"
    assert store.claim_alert(again[0], process_token())
    store.mark_sent(row.id, "C1", "1.0001")
    assert store.alert_delivery(row.id) == ("C1", "1.0001", "sent")
    assert store.pending_alerts() == []


def test_release_keeps_the_alert_queued_and_permanent_failure_stops_it(store):
    _enqueue(store, "https://a/1")
    _enqueue(store, "https://a/2", story="s2")
    r1, r2 = store.pending_alerts()
    store.claim_alert(r1, process_token())
    store.release_alert(r1.id, "HTTP 500")
    store.claim_alert(r2, process_token())
    store.release_alert(r2.id, "channel_not_found", permanent=True)
    assert [r.id for r in store.pending_alerts()] == [r1.id]
    assert store.outbox_counts() == {"pending": 1, "failed": 1}


def test_source_health_flag_flips_once(store):
    for _ in range(3):
        state = store.record_poll("Feed", ok=False, error="timeout")
    assert state["consecutive_failures"] == 3
    assert store.set_source_broken("Feed", True) is True
    assert store.set_source_broken("Feed", True) is False  # second pass: no second notice
    state = store.record_poll("Feed", ok=True, items=5, new_items=2, etag='"x"')
    assert state["consecutive_failures"] == 0 and state["etag"] == '"x"'
    assert store.set_source_broken("Feed", False) is True


def test_store_url_env_overrides_settings(tmp_path, monkeypatch):
    from newswatch.config import load_config

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "sources.yaml").write_text("sources: []\n")
    (cfg / "topics.yaml").write_text(
        "topics:\n  - {id: t, name: T, description: d, examples: [x]}\n"
    )
    monkeypatch.setenv("NEWSWATCH_STORE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert load_config(cfg).settings.store.url.endswith("x.db")
    assert os.environ["NEWSWATCH_STORE_URL"]
