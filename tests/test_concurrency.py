"""Two passes at the same moment on one PostgreSQL store: every alert delivered exactly once.

Two real `newswatch run` processes (each with its own ephemeral Prefect) poll the
same feed; the feed answers only when both have asked, so they race through
fetch, store, enqueue and delivery together.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from newsroom import SPORT, serve, visit_article, write_config

from newswatch.demo import demo_articles

pytestmark = pytest.mark.slow


def test_two_simultaneous_passes_alert_once(site, slack_server, pg_url, tmp_path):
    articles = [visit_article(), SPORT, *demo_articles()[-4:]]
    serve(site, articles)
    feed_body = site._respond  # noqa: SLF001 - reuse the static route
    barrier = threading.Barrier(2, timeout=120)
    static = {}

    def racing_feed(req):
        if "body" not in static:
            static["body"] = feed_body(type(req)(req.method, "/feed.xml", req.headers))
        barrier.wait()
        return static["body"]

    site.add_handler("/race.xml", racing_feed)
    cfg = write_config(
        tmp_path / "config",
        store_url=pg_url,
        sources=[{"name": "Loopback Wire", "url": site.url("/race.xml"), "kind": "feed"}],
        slack_api_url=slack_server.api_url,
    )
    exe = str(Path(sys.executable).parent / "newswatch")
    procs = []
    for i in range(2):
        env = {
            **os.environ,
            "PREFECT_HOME": str(tmp_path / f"prefect-{i}"),
            "NEWSWATCH_TEST_SLACK_TOKEN": slack_server.token,
        }
        procs.append(
            subprocess.Popen(
                [exe, "run", "--config-dir", str(cfg)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    ids = Counter(
        m["metadata"]["event_payload"]["alert_id"]
        for m in slack_server.messages
        if (m.get("metadata") or {}).get("event_type") == "newswatch_alert"
    )
    assert ids, outputs
    assert max(ids.values()) == 1, ids
    topics = Counter(
        m["metadata"]["event_payload"]["topic"]
        for m in slack_server.messages
        if (m.get("metadata") or {}).get("event_type") == "newswatch_alert"
    )
    assert topics["leader-foreign-visit"] >= 1
    # the two visit stories (seed/demo copy) share a story: one lead, the rest threaded
    leads = [m for m in slack_server.messages if not m.get("thread_ts")]
    assert len({m["metadata"]["event_payload"]["url"] for m in leads}) == len(leads)
