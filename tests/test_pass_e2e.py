"""One real monitoring pass, end to end: loopback news site -> real flow -> local Slack.

Real parts: the Prefect flow under prefect_test_harness, requests + feedparser +
trafilatura, the all-MiniLM-L6-v2 model, SQLite, slack_sdk's WebClient talking to
a Slack-Web-API-compatible server on loopback. Nothing is mocked.
"""

from __future__ import annotations

import threading

import pytest
from newsroom import SPORT, serve, visit_article, write_config

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def slack_env(monkeypatch, slack_server):
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    return slack_server


def _alerts(slack_server, topic: str) -> list[dict]:
    return [
        m
        for m in slack_server.messages
        if (m.get("metadata") or {}).get("event_payload", {}).get("topic") == topic
    ]


def test_visit_alerts_once_sport_never_second_pass_silent(site, slack_env, tmp_path):
    from flows.monitor import monitor_pass

    visit = visit_article()
    feed = serve(site, [visit, SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
        slack_api_url=slack_env.api_url,
    )

    first = monitor_pass(config_dir=str(cfg))

    assert first["sources_polled"] == 1 and not first["sources_failed"]
    assert first["new_articles"] == 2
    visits = _alerts(slack_env, "leader-foreign-visit")
    assert len(visits) == 1, slack_env.messages
    alert = visits[0]
    payload = alert["metadata"]["event_payload"]
    assert payload["url"].endswith(f"/news/{visit['slug']}.html")
    assert "utm_" not in payload["url"]
    text = str(alert["blocks"])
    assert "Russia" in text and "Kim" in text
    # the evidence is the story, not the paywall / donation boilerplate
    assert "free articles" not in text and "Subscribe" not in text
    assert not any(SPORT["title"] in str(m) for m in slack_env.messages)
    assert first["alerts_sent"] == len(slack_env.messages)

    posted = len(slack_env.messages)
    second = monitor_pass(config_dir=str(cfg))
    assert second["new_articles"] == 0
    assert second["alerts_queued"] == 0
    assert len(slack_env.messages) == posted


def test_broken_feeds_are_reported_and_others_still_deliver(site, slack_env, tmp_path):
    from flows.monitor import monitor_pass

    release = threading.Event()

    def hang(_req):
        release.wait(10)  # longer than the 2 s client timeout; released at teardown
        return 200, {"Content-Type": "application/rss+xml"}, b"<rss></rss>"

    site.add_handler("/slow.xml", hang)
    site.add("/garbage.xml", b"\x00\x01 this is not a feed {]", content_type="text/plain")
    feed = serve(site, [visit_article()])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[
            {"name": "Hanging feed", "url": site.url("/slow.xml"), "kind": "feed"},
            {"name": "Garbage feed", "url": site.url("/garbage.xml"), "kind": "feed"},
            {"name": "Good feed", "url": feed, "kind": "feed"},
        ],
        slack_api_url=slack_env.api_url,
    )
    try:
        summary = monitor_pass(config_dir=str(cfg))
    finally:
        release.set()

    failed = dict(summary["sources_failed"])
    assert set(failed) == {"Hanging feed", "Garbage feed"}
    assert "/slow.xml" in failed["Hanging feed"]
    assert "/garbage.xml" in failed["Garbage feed"]
    assert len(_alerts(slack_env, "leader-foreign-visit")) == 1
