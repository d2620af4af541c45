"""A pass killed at its worst moment loses no alert and sends none twice.

A real child process runs the pass (no Prefect: `run_pass`) and dies with
`os._exit` via the NEWSWATCH_TEST_CRASH_AT hook after the chunk's articles were
written and before their alerts were queued; the next pass, in this process,
must alert the story exactly once. Real site, model, SQLite and Slack server.
"""

from __future__ import annotations

import os
import subprocess
import sys

from newsroom import SPORT, serve, visit_article, write_config

from newswatch.config import load_config
from newswatch.pass_ import run_pass

CHILD = (
    "import sys\nfrom newswatch.config import load_config\nfrom newswatch.pass_ import run_pass\n"
)
CHILD += "run_pass(load_config(sys.argv[1]))\n"


def _visit_alerts(server) -> list[dict]:
    return [
        m
        for m in server.messages
        if (m.get("metadata") or {}).get("event_payload", {}).get("topic") == "leader-foreign-visit"
    ]


def test_killed_between_article_write_and_enqueue_next_pass_alerts_exactly_once(
    site, slack_server, tmp_path, monkeypatch, embedder
):
    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
        slack_api_url=slack_server.api_url,
    )
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    env = {**os.environ, "NEWSWATCH_TEST_CRASH_AT": "after-articles"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(cfg)], env=env, timeout=300, capture_output=True
    )
    assert child.returncode == 86, child.stderr.decode()[-2000:]
    assert slack_server.messages == []

    stats = run_pass(load_config(cfg))
    assert stats.new_articles == 2  # the dead pass's articles did not count as known
    assert len(_visit_alerts(slack_server)) == 1

    again = run_pass(load_config(cfg))
    assert again.new_articles == 0 and again.alerts_queued == 0
    assert len(_visit_alerts(slack_server)) == 1


def test_a_header_trickling_source_does_not_hold_the_pass_and_others_deliver(
    site, slack_server, tmp_path, monkeypatch, embedder
):
    import time

    from test_http import TricklingServer

    trickler = TricklingServer(interval=0.5)
    feed = serve(site, [visit_article()])
    cfg = write_config(
        tmp_path / "config",
        store_url="sqlite:///nw.db",
        sources=[{"name": "Trickle", "url": trickler.url}, {"name": "Wire", "url": feed}],
        slack_api_url=slack_server.api_url,
    )
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    try:
        t0 = time.monotonic()
        stats = run_pass(load_config(cfg))  # timeout_seconds: 2, retries: 0
        took = time.monotonic() - t0
    finally:
        trickler.close()
    failed = dict(stats.sources_failed)
    assert set(failed) == {"Trickle"} and "network.timeout_seconds" in failed["Trickle"]
    assert len(_visit_alerts(slack_server)) == 1
    assert stats.timings["poll"] < 10, (took, stats.timings)


def test_a_page_that_failed_is_fetched_again_and_alerts_once(
    site, slack_server, tmp_path, monkeypatch, embedder
):
    from newswatch.demo import page_html
    from newswatch.store import Store

    visit = visit_article()
    feed = serve(site, [visit])
    path = f"/news/{visit['slug']}.html"
    page = page_html(visit["title"], visit["outlet"], visit["published"], visit["paragraphs"])
    healthy = {"yes": False}

    def flaky(_req):
        if healthy["yes"]:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
        return 503, {}, b"overloaded"

    site.add_handler(path, flaky)
    cfg = write_config(
        tmp_path / "config",
        store_url="sqlite:///nw.db",
        sources=[{"name": "Wire", "url": feed}],
        slack_api_url=slack_server.api_url,
    )
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)

    first = run_pass(load_config(cfg))
    assert first.fetch_failures == 1 and first.new_articles == 1
    store = Store(load_config(cfg).settings.store.url)
    try:
        (stored,) = list(store.iter_articles())
        assert stored.article.extraction == "summary"
        summary = stored.article.text

        healthy["yes"] = True
        second = run_pass(load_config(cfg))
        assert second.fetch_failures == 0 and second.updated_articles == 1
        (stored,) = list(store.iter_articles())
        assert stored.article.extraction == "page"
        assert len(stored.article.text) > 2 * len(summary)  # the full text, not the summary
        assert len(site.requests_for(path)) == 2

        third = run_pass(load_config(cfg))  # done: not fetched again
        assert len(site.requests_for(path)) == 2 and third.updated_articles == 0
    finally:
        store.close()
    assert len(_visit_alerts(slack_server)) == 1  # re-scored, alerted once
