"""One real monitoring pass, end to end: loopback news site -> real flow -> local Slack.

Real parts: the Prefect flow under prefect_test_harness, requests + feedparser +
trafilatura, the all-MiniLM-L6-v2 model, SQLite, slack_sdk's WebClient talking to
a Slack-Web-API-compatible server on loopback. Nothing is mocked.
"""

from __future__ import annotations

import functools
import re
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
    from newswatch.flows.monitor import monitor_pass

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
    assert "Kim" in text and ("Russia" in text or "Moscow" in text)
    # the evidence is the story, not the paywall / donation boilerplate
    assert "free articles" not in text and "Subscribe" not in text
    # the quoted evidence bolds the words the detector matched: the event word and the leader
    quote = next(
        b["text"]["text"] for b in alert["blocks"] if b.get("text", {}).get("text", "")[:2] == "> "
    )
    bold = {w.lower() for w in re.findall(r"\*([^*]+)\*", quote)}
    assert bold & {"visit", "visits", "attend", "trip"}, quote
    assert any("kim" in w for w in bold), quote
    assert not any(SPORT["title"] in str(m) for m in slack_env.messages)
    assert first["alerts_sent"] == len(slack_env.messages)

    posted = len(slack_env.messages)
    second = monitor_pass(config_dir=str(cfg))
    assert second["new_articles"] == 0
    assert second["alerts_queued"] == 0
    assert len(slack_env.messages) == posted


def test_broken_feeds_are_reported_and_others_still_deliver(site, slack_env, tmp_path):
    from newswatch.flows.monitor import monitor_pass

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


def _wire_copies() -> list[dict]:
    """One wire story as three outlets run it: same facts, light rewrites."""
    from newswatch.demo import demo_articles

    first, second = (a for a in demo_articles() if a["slug"].startswith("kim-"))
    third = {
        **second,
        "slug": "kim-victory-day-third-outlet",
        "outlet": "Third Outlet",
        "title": "Kim Jong Un accepts Kremlin invitation to Moscow victory parade",
        "paragraphs": [
            p.replace("Kremlin said", "Kremlin announced") for p in second["paragraphs"]
        ],
    }
    return [first, second, third]


@pytest.mark.parametrize("prefetch", [False, True], ids=["chunked", "chunked+prefetch"])
def test_one_wire_story_from_three_outlets_is_one_alert_and_two_threaded_followups(
    site, slack_env, tmp_path, monkeypatch, prefetch
):
    from newswatch.flows.monitor import monitor_pass
    from newswatch.pass_ import fetch as pipeline

    # one article per chunk, so the story spans chunks (and, with prefetch, chunk k+1 is
    # fetched while chunk k is scored): the outcome must not depend on either
    monkeypatch.setattr(pipeline, "chunks", functools.partial(pipeline.chunks, size=1))
    monkeypatch.setattr(pipeline, "PREFETCH", prefetch)

    copies = _wire_copies()
    feeds = []
    for i, article in enumerate(copies):
        feeds.append(serve(site, [article], feed_path=f"/outlet{i}.xml"))
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[
            {"name": a["outlet"], "url": f, "kind": "feed"}
            for a, f in zip(copies, feeds, strict=True)
        ],
        slack_api_url=slack_env.api_url,
    )
    summary = monitor_pass(config_dir=str(cfg))

    assert summary["new_articles"] == 3
    visits = _alerts(slack_env, "leader-foreign-visit")
    leads = [m for m in visits if not m.get("thread_ts")]
    replies = [m for m in visits if m.get("thread_ts")]
    assert len(leads) == 1, visits
    assert len(replies) == 2
    assert {r["thread_ts"] for r in replies} == {leads[0]["ts"]}
    assert summary["alerts_queued"] == 1 and summary["followups_queued"] == 2


def test_a_source_that_keeps_failing_raises_one_notice_then_one_recovery(site, slack_env, tmp_path):
    from newswatch.flows.monitor import monitor_pass

    state = {"up": False}
    good = serve(site, [visit_article()])
    body = site._respond  # noqa: SLF001 - reuse the static feed route

    def flaky(req):
        if state["up"]:
            return body(type(req)(req.method, "/feed.xml", req.headers))
        return 503, {"Content-Type": "text/plain"}, b"maintenance"

    site.add_handler("/flaky.xml", flaky)
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[
            {"name": "Flaky feed", "url": site.url("/flaky.xml"), "kind": "feed"},
            {"name": "Good feed", "url": good, "kind": "feed"},
        ],
        slack_api_url=slack_env.api_url,
        settings={"health": {"failures_before_notice": 2}},
    )

    def notices() -> list[str]:
        return [
            m["text"]
            for m in slack_env.messages
            if (m.get("metadata") or {}).get("event_type") != "newswatch_alert"
        ]

    for _ in range(3):
        monitor_pass(config_dir=str(cfg))
    broken = [n for n in notices() if "Flaky feed" in n]
    assert len(broken) == 1 and "broken" in broken[0] and "503" in broken[0]

    state["up"] = True
    monitor_pass(config_dir=str(cfg))
    monitor_pass(config_dir=str(cfg))
    flaky_notices = [n for n in notices() if "Flaky feed" in n]
    assert len(flaky_notices) == 2 and "recovered" in flaky_notices[1]
    assert not [n for n in notices() if "Good feed" in n]


def test_an_updated_article_is_rescored_but_alerts_only_when_its_match_changes(
    site, slack_env, tmp_path
):
    """Same canonical article reached again (an /amp/ copy with rel=canonical), text changed."""
    from newswatch.demo import page_html, rss
    from newswatch.flows.monitor import monitor_pass

    visit = visit_article()
    budget = {
        "slug": "budget",
        "outlet": "Loopback Wire",
        "published": "2015-01-30T10:00:00Z",
        "title": "Government outlines spending plans for the coming year",
        "paragraphs": [
            "The government outlined its spending plans on Friday, with more money for "
            "railways and hospitals and a freeze on civil service hiring.",
            "Opposition parties said the plans did too little for rural areas.",
        ],
    }

    def publish(path: str, article: dict, canonical: str | None = None) -> None:
        html = page_html(
            article["title"], article["outlet"], article["published"], article["paragraphs"]
        )
        if canonical:
            html = html.replace("</head>", f'<link rel="canonical" href="{canonical}"></head>')
        site.add(path, html)

    def list_feed(entries: list[tuple[str, dict]]) -> None:
        xml = rss(site.base_url, [a for _, a in entries])
        for path, a in entries:
            xml = xml.replace(f"/news/{a['slug']}.html".encode(), path.encode())
        site.add("/feed.xml", xml, content_type="application/rss+xml")

    publish("/news/visit.html", visit)
    publish("/news/budget.html", budget)
    list_feed([("/news/visit.html", visit), ("/news/budget.html", budget)])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Loopback Wire", "url": site.url("/feed.xml"), "kind": "feed"}],
        slack_api_url=slack_env.api_url,
    )
    monitor_pass(config_dir=str(cfg))
    assert len(_alerts(slack_env, "leader-foreign-visit")) == 1

    # the visit story gains a paragraph; the budget story turns into a visit announcement
    extra = (
        "Kremlin officials said on Thursday that preparations for the parade were under "
        "way and that the full list of foreign guests would be published in April."
    )
    paragraphs = visit["paragraphs"]
    updated_visit = {**visit, "paragraphs": [*paragraphs[:2], extra, *paragraphs[2:]]}
    updated_budget = {
        **budget,
        "title": "Prime minister to visit Japan after budget, office says",
        "paragraphs": [
            "The prime minister will travel to Tokyo next week for talks with the Japanese "
            "prime minister on trade and security, her office said on Friday, after "
            "outlining the government's spending plans.",
            *budget["paragraphs"],
        ],
    }
    publish("/amp/visit.html", updated_visit, canonical=site.url("/news/visit.html"))
    publish("/amp/budget.html", updated_budget, canonical=site.url("/news/budget.html"))
    list_feed([("/amp/visit.html", updated_visit), ("/amp/budget.html", updated_budget)])
    summary = monitor_pass(config_dir=str(cfg))

    assert summary["updated_articles"] == 2 and summary["new_articles"] == 0
    visits = _alerts(slack_env, "leader-foreign-visit")
    assert len(visits) == 2  # the visit did not re-alert; the budget story now matches
    assert "Japan" in str(visits[1]["blocks"])
