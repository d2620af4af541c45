"""The outbox against a Slack-compatible server: never lost, never twice, threaded stories.

The real slack_sdk WebClient talks to the loopback Slack server; the store is real
(SQLite, and PostgreSQL where the test says so). The crash test kills a real child
process between Slack's "ok" and the outbox update.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from newswatch.clock import utcnow
from newswatch.delivery import deliver_pending
from newswatch.notify.slack import SlackNotifier
from newswatch.schema import Topic
from newswatch.store import Store

TOPIC = Topic(
    id="leader-foreign-visit",
    name="Leader foreign visit",
    description="d",
    examples=(),
    counter_examples=(),
    require_any=(),
    exclude_any=(),
    entities={},
    threshold=0.5,
    channel="#geo",
    detectors=("semantic",),
    detector_options={},
    delivery="immediate",
    digest_period_minutes=60,
    source_file="topics.yaml",
)


def enqueue(store: Store, url: str, story: str = "story-1", source: str = "Wire", **kw):
    payload = {
        "topic_name": TOPIC.name,
        "title": f"Kim to visit Moscow ({source})",
        "url": url,
        "canonical_url": url,
        "source": source,
        "published": "2015-01-28T08:00:00+00:00",
        "score": 0.91,
        "evidence": "North Korean leader Kim Jong Un will attend celebrations in Russia in May.",
        "detector": "hybrid",
        "highlight": ["Kim Jong Un", "Russia"],
    }
    return store.enqueue_alert(
        topic_id=TOPIC.id,
        story_id=story,
        article_url=url,
        channel=kw.get("channel", "#geo"),
        delivery=kw.get("delivery", "immediate"),
        score=0.91,
        payload=payload,
    )


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'nw.db'}")
    yield s
    s.close()


def notifier(server) -> SlackNotifier:
    return SlackNotifier(
        server.token, base_url=server.api_url, min_seconds_between_posts=0, retry_backoff=0.01
    )


def test_slack_down_for_a_whole_pass_loses_nothing_and_next_pass_sends_once(store, slack_server):
    for i in range(3):
        enqueue(store, f"https://news.example/{i}", story=f"s{i}")
    slack_server.fail_all(500)
    report = deliver_pending(store, notifier(slack_server), [TOPIC])
    assert report.sent == 0 and report.pending == 3
    assert (
        "500" in report.problem and "\n" not in report.problem and "Traceback" not in report.problem
    )
    assert slack_server.messages == []

    slack_server.recover()
    report = deliver_pending(store, notifier(slack_server), [TOPIC])
    assert report.sent == 3 and report.pending == 0
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert len(ids) == len(set(ids)) == 3
    assert deliver_pending(store, notifier(slack_server), [TOPIC]).sent == 0
    assert len(slack_server.messages) == 3


def test_rate_limit_retry_after_is_honoured(store, slack_server):
    enqueue(store, "https://news.example/1")
    slack_server.rate_limit_next(1, retry_after=1)
    report = deliver_pending(store, notifier(slack_server), [TOPIC])
    assert report.sent == 1
    posts = slack_server.requests_to("chat.postMessage")
    assert [p["status"] for p in posts] == [429, 200]
    assert posts[1]["at"] - posts[0]["at"] >= 0.95
    assert len(slack_server.messages) == 1


def test_two_articles_of_one_story_make_one_alert_and_one_threaded_reply(store, slack_server):
    enqueue(store, "https://wire.example/kim", source="Wire")
    enqueue(store, "https://herald.example/kim-copy", source="Herald")
    report = deliver_pending(store, notifier(slack_server), [TOPIC])
    assert report.sent == 2
    lead, reply = slack_server.messages
    assert lead.get("thread_ts") in (None, "")
    assert reply["thread_ts"] == lead["ts"]
    assert "Herald" in str(reply["blocks"]) or "Herald" in reply["text"]


def test_followup_waits_for_its_lead_when_slack_was_down(store, slack_server):
    enqueue(store, "https://wire.example/kim", source="Wire")
    enqueue(store, "https://herald.example/kim-copy", source="Herald")
    slack_server.fail_all(500)
    deliver_pending(store, notifier(slack_server), [TOPIC])
    slack_server.recover()
    deliver_pending(store, notifier(slack_server), [TOPIC])
    lead, reply = slack_server.messages
    assert reply["thread_ts"] == lead["ts"]


def test_digest_topic_sends_one_message_per_period(store, slack_server):
    digest_topic = Topic(**{**TOPIC.__dict__, "delivery": "digest", "digest_period_minutes": 30})
    for i in range(3):
        enqueue(store, f"https://news.example/{i}", story=f"s{i}", delivery="digest")
    first = deliver_pending(store, notifier(slack_server), [digest_topic])
    assert (first.sent, first.held, first.pending, first.problem) == (0, 3, 0, "")
    later = utcnow() + timedelta(minutes=31)
    report = deliver_pending(store, notifier(slack_server), [digest_topic], now=later)
    assert report.sent == 3
    assert len(slack_server.messages) == 1
    assert slack_server.messages[0]["text"].count("Kim") >= 1


CHILD = textwrap.dedent(
    """
    import sys
    from newswatch.schema import Topic
    from newswatch.delivery import deliver_pending
    from newswatch.notify.slack import SlackNotifier
    from newswatch.store import Store
    url, api, token = sys.argv[1:4]
    topic = Topic(id="leader-foreign-visit", name="Leader foreign visit", description="d",
                  examples=(), counter_examples=(), require_any=(), exclude_any=(), entities={},
                  threshold=0.5, channel="#geo", detectors=("semantic",), detector_options={},
                  delivery="immediate", digest_period_minutes=60, source_file="t")
    n = SlackNotifier(token, base_url=api, min_seconds_between_posts=0, max_retries=0)
    print(deliver_pending(Store(url), n, [topic]), flush=True)
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_crash_between_post_and_mark_does_not_post_twice(backend, tmp_path, slack_server, request):
    url = (
        f"sqlite:///{tmp_path / 'nw.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    store = Store(url)
    enqueue(store, "https://wire.example/kim")
    enqueue(store, "https://herald.example/kim-copy", source="Herald")  # a threaded follow-up
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, slack_server.api_url, slack_server.token],
        stdout=subprocess.PIPE,
        text=True,
    )

    def kill_sender(_message):
        os.kill(child.pid, signal.SIGKILL)  # Slack has the message; the sender never hears back
        raise ConnectionAbortedError

    slack_server.on_post(kill_sender, once=True)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert len(slack_server.messages) == 1
    assert store.outbox_counts().get("sending") == 1  # outcome unknown in the outbox

    report = deliver_pending(store, notifier(slack_server), [TOPIC])
    assert report.sent == 2
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert len(ids) == 2 and len(set(ids)) == 2  # the lead was found, not re-posted
    assert slack_server.messages[1]["thread_ts"] == slack_server.messages[0]["ts"]
    store.close()
