"""One alert per event: outlets' own write-ups of one happening share a living Slack thread.

Real parts: loopback news site and feeds (one per outlet), requests + trafilatura, the
all-MiniLM-L6-v2 model and the hybrid detector, SQLite and PostgreSQL stores, and the
real slack_sdk WebClient talking to the local Slack-compatible server (chat.postMessage,
chat.update). The articles are tests/fixtures/events/*.yaml, written for the project.
`run_pass` is called directly (the Prefect wrapping is tested elsewhere).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml
from newsroom import serve, write_config

from newswatch.config import load_config
from newswatch.pass_ import run_pass

FIXTURES = Path(__file__).parent / "fixtures" / "events" / "kim_moscow.yaml"
VISIT = "leader-foreign-visit"


def _articles() -> dict[str, dict]:
    return {a["slug"]: a for a in yaml.safe_load(FIXTURES.read_text(encoding="utf-8"))}


def _visit_alerts(slack) -> list[dict]:
    return [
        m
        for m in slack.messages
        if (m.get("metadata") or {}).get("event_payload", {}).get("topic") == VISIT
    ]


def _serve_outlets(site, articles: list[dict], tag: str = "") -> list[dict]:
    """Each outlet behind its own feed; returns the sources.yaml entries."""
    by_outlet: dict[str, list[dict]] = {}
    for a in articles:
        by_outlet.setdefault(a["outlet"], []).append(a)
    sources = []
    for i, (outlet, items) in enumerate(sorted(by_outlet.items())):
        url = serve(site, items, feed_path=f"/outlet{tag}{i}.xml")
        sources.append({"name": outlet, "url": url, "kind": "feed"})
    return sources


@pytest.fixture
def slack_env(monkeypatch, slack_server):
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    return slack_server


def _thread_of(slack, lead: dict) -> list[dict]:
    return [m for m in _visit_alerts(slack) if m.get("thread_ts") == lead["ts"]]


def _lead_about(leads: list[dict], word: str) -> dict:
    found = [m for m in leads if word in str(m["blocks"])]
    assert len(found) == 1, [m["text"] for m in leads]
    return found[0]


def test_outlets_write_ups_are_one_event_a_cancellation_is_broadcast(site, slack_env, tmp_path):
    arts = _articles()
    kim = [arts[s] for s in ("kim-moscow-northern-star", "kim-moscow-daily-ledger",
                             "kim-moscow-coastal-times")]  # fmt: skip
    modi = [arts["modi-tokyo-northern-star"], arts["modi-tokyo-daily-ledger"]]
    sources = _serve_outlets(site, kim + modi)
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=sources,
        slack_api_url=slack_env.api_url,
    )
    stats = run_pass(load_config(cfg))

    visits = _visit_alerts(slack_env)
    leads = [m for m in visits if not m.get("thread_ts")]
    # one Kim trip reported by three outlets, and another leader's visit the same day
    assert len(leads) == 2, [m["text"] for m in visits]
    kim_lead, modi_lead = _lead_about(leads, "Kim"), _lead_about(leads, "Modi")
    kim_thread = _thread_of(slack_env, kim_lead)
    assert len(kim_thread) == 2 and len(_thread_of(slack_env, modi_lead)) == 1
    assert all("Also reported by" in str(m["blocks"]) for m in kim_thread)
    # each follow-up quotes its own outlet's evidence line
    quotes = {b["text"]["text"] for m in kim_thread for b in m["blocks"] if b["type"] == "section"
              and b["text"]["text"].startswith("> ")}  # fmt: skip
    assert len(quotes) == 2
    assert not any(m["reply_broadcast"] for m in kim_thread)
    # the lead was edited in place: one living entry, with the outlets that reported it
    assert kim_lead.get("edits", 0) >= 1
    assert "3 outlets" in str(kim_lead["blocks"])
    assert all(o in str(kim_lead["blocks"]) for o in ("Northern Star", "Daily Ledger", "Coastal"))
    assert len(slack_env.requests_to("chat.update")) >= 2
    s = stats.as_dict()
    assert s["events_new"] == 2 and s["articles_alerted"] == 5 and s["outlets"] == 3

    # next pass: one outlet reports the trip is off -> a threaded post that notifies the channel
    cancel = arts["kim-moscow-cancelled-coastal-times"]
    assert sources[0]["name"] == cancel["outlet"]
    serve(site, [kim[2], cancel], feed_path="/outlet0.xml")
    run_pass(load_config(cfg))
    kim_thread = _thread_of(slack_env, kim_lead)
    news = [m for m in kim_thread if "cancel" in m["text"].lower()]
    assert len(news) == 1 and news[0]["reply_broadcast"] is True, [m["text"] for m in kim_thread]
    assert "New development" in str(news[0]["blocks"])
    leads_now = [m for m in _visit_alerts(slack_env) if not m.get("thread_ts")]
    assert len(leads_now) == 2  # still one entry per event
    assert "cancelled" in str(kim_lead["blocks"]).lower()


@pytest.mark.slow
def test_two_concurrent_passes_on_postgres_agree_on_events(site, slack_env, pg_url, tmp_path):
    arts = _articles()
    kim = [arts[s] for s in ("kim-moscow-northern-star", "kim-moscow-daily-ledger",
                             "kim-moscow-coastal-times")]  # fmt: skip
    modi = [arts["modi-tokyo-northern-star"], arts["modi-tokyo-daily-ledger"]]
    # pass A reads Northern Star, pass B the other outlets: the event spans both passes
    a_sources = _serve_outlets(site, [kim[0], modi[0]], tag="a")
    b_sources = _serve_outlets(site, [kim[1], kim[2], modi[1]], tag="b")
    barrier = threading.Barrier(2, timeout=50)
    body = site._respond  # noqa: SLF001 - reuse the static routes
    for src in (a_sources[0], b_sources[0]):
        path = "/" + src["url"].rsplit("/", 1)[-1]
        site.add_handler(f"/race{path}", _racing(body, path, barrier))
        src["url"] = site.url(f"/race{path}")
    configs = []
    for name, sources in (("a", a_sources), ("b", b_sources)):
        configs.append(
            write_config(
                tmp_path / f"config-{name}",
                store_url=pg_url,
                sources=sources,
                slack_api_url=slack_env.api_url,
                settings={"network": {"timeout_seconds": 60}},
            )
        )
    errors: list[BaseException] = []

    def one(cfg):
        try:
            run_pass(load_config(cfg))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(c,)) for c in configs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    # a pass that saw the lead still pending threads its follow-ups on the next pass
    run_pass(load_config(configs[0]))

    visits = _visit_alerts(slack_env)
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in visits]
    assert len(ids) == len(set(ids)) == 5
    leads = [m for m in visits if not m.get("thread_ts")]
    assert len(leads) == 2, [m["text"] for m in visits]
    kim_lead = _lead_about(leads, "Kim")
    assert len(_thread_of(slack_env, kim_lead)) == 2
    assert "3 outlets" in str(kim_lead["blocks"])


def _racing(body, path: str, barrier: threading.Barrier):
    """A feed that answers only when both passes have asked for theirs."""

    first = threading.Event()

    def handler(req):
        response = body(type(req)(req.method, path, req.headers))
        if not first.is_set():  # later polls (the follow-up pass) answer at once
            first.set()
            barrier.wait()
        return response

    return handler
