"""Slack faults an operator can fix: alerts wait, the fault is named once, the fix delivers.

The real slack_sdk WebClient talks to the loopback Slack server, which answers the
errors real workspaces give (HTTP 200, `ok: false`); the store is real SQLite.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_server import DEFAULT_TOKEN, slack_server_fixture  # noqa: F401  (fixture)
from test_delivery import TOPIC, enqueue

from newswatch.clock import utcnow
from newswatch.delivery import deliver_pending
from newswatch.notify.slack import SlackNotifier
from newswatch.store import Store

DEFAULT = "#newswatch-ops"


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'nw.db'}")
    yield s
    s.close()


def deliver(store, server, **kw):
    """One pass's delivery with the bot token newswatch was configured with."""
    slack = SlackNotifier(
        DEFAULT_TOKEN, base_url=server.api_url, min_seconds_between_posts=0, retry_backoff=0.01
    )
    return deliver_pending(store, slack, [TOPIC], default_channel=DEFAULT, **kw)


FAULTS = {
    # name: (break it, fix it, words the operator notice must contain)
    "invalid_auth": (
        lambda s: setattr(s, "token", "xoxb-rotated-elsewhere"),
        lambda s: setattr(s, "token", DEFAULT_TOKEN),
        "set SLACK_BOT_TOKEN",
    ),
    "token_revoked": (
        lambda s: s.error_all("token_revoked"),
        lambda s: s.recover(),
        "token revoked: set SLACK_BOT_TOKEN",
    ),
    "account_inactive": (
        lambda s: s.error_all("account_inactive"),
        lambda s: s.recover(),
        "set SLACK_BOT_TOKEN",
    ),
    "not_authed": (
        lambda s: s.error_all("not_authed"),
        lambda s: s.recover(),
        "set SLACK_BOT_TOKEN",
    ),
    "channel_not_found": (
        lambda s: s.missing_channels.add("#geo"),
        lambda s: s.missing_channels.clear(),
        "channel #geo not found",
    ),
    "not_in_channel": (
        lambda s: s.not_in_channels.add("#geo"),
        lambda s: s.not_in_channels.clear(),
        "bot is not in #geo: /invite @newswatch",
    ),
    "is_archived": (
        lambda s: s.archived_channels.add("#geo"),
        lambda s: s.archived_channels.clear(),
        "#geo is archived",
    ),
    "missing_scope": (
        lambda s: s.missing_scopes.add("chat:write"),
        lambda s: s.missing_scopes.clear(),
        "lacks the scope chat:write",
    ),
    "ratelimited": (
        lambda s: s.rate_limit_next(10_000, retry_after=600),
        lambda s: s.recover(),
        "rate-limiting",
    ),
}


def _geo(server) -> list[dict]:
    return [m for m in server.messages_in("#geo") if m["metadata"]["event_type"].endswith("alert")]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fixable_fault_keeps_alerts_queued_names_it_once_and_the_fix_delivers_once(
    fault, store, slack_server
):
    breaks, fixes, words = FAULTS[fault]
    for i in range(2):
        enqueue(store, f"https://news.example/{fault}/{i}", story=f"s{i}")
    breaks(slack_server)

    notices, logged = [], []
    for _ in range(3):  # the fault lasts three passes
        report = deliver(store, slack_server)
        assert report.sent == 0 and report.pending == 2 and report.failed == 0
        assert fault in report.problem
        notices += report.notices
        logged += report.unsent_notices
    assert len(notices) == 1, notices  # once per fault: not per alert, not per pass
    assert words in notices[0]
    assert _geo(slack_server) == []
    waiting = store.outbox_rows(("pending",))
    assert len(waiting) == 2 and all(fault in (r.last_error or "") for r in waiting)
    ops = slack_server.messages_in(DEFAULT)
    if fault in ("channel_not_found", "not_in_channel", "is_archived"):
        # the default channel works: the operator reads it there, once
        assert len(ops) == 1 and words.split(":")[0] in str(ops[0]["blocks"])
    else:  # Slack takes nothing: the notice goes to the log (and the run state)
        assert ops == [] and logged == notices
        assert report.blocked_by_fix

    fixes(slack_server)
    report = deliver(store, slack_server)
    assert report.sent == 2 and report.pending == 0 and report.notices == []
    assert sorted(m["metadata"]["event_payload"]["alert_id"] for m in _geo(slack_server)) == sorted(
        r.id for r in waiting
    )
    assert store.open_faults() == {}  # fixed: forgotten, so a new occurrence is named again
    assert deliver(store, slack_server).sent == 0
    assert len(_geo(slack_server)) == 2


def test_a_channel_fault_blocks_only_its_channel_and_the_summary_names_each_error(
    store, slack_server
):
    enqueue(store, "https://news.example/a", story="a", channel="#alerts-diplomacy")
    enqueue(store, "https://news.example/b", story="b", channel="#typo-channel")
    enqueue(store, "https://news.example/c", story="c", channel="#geo")
    slack_server.not_in_channels.add("#alerts-diplomacy")
    slack_server.missing_channels.add("#typo-channel")

    report = deliver(store, slack_server)

    assert report.sent == 1 and report.pending == 2
    assert "not_in_channel in #alerts-diplomacy" in report.problem
    assert "channel_not_found in #typo-channel" in report.problem
    assert "bot is not in #alerts-diplomacy: /invite @newswatch" in report.notices
    assert len(report.notices) == 2


def test_msg_too_long_is_resent_as_plain_text_never_dropped(store, slack_server):
    (aid, _) = enqueue(store, "https://news.example/long")
    slack_server.error_next("msg_too_long", when=lambda p: bool(p.get("blocks")))

    report = deliver(store, slack_server)

    assert report.sent == 1 and report.reduced == 1 and report.failed == 0
    (msg,) = _geo(slack_server)
    assert not msg["blocks"] and "Kim to visit Moscow" in msg["text"]
    assert len(msg["text"]) <= 3000
    assert msg["metadata"]["event_payload"]["alert_id"] == aid  # still found by the look-up
    assert "msg_too_long in #geo: sent as plain text" in report.problem


def test_rejected_even_as_plain_text_is_failed_with_the_reason(store, slack_server):
    enqueue(store, "https://news.example/bad")
    slack_server.error_next("invalid_blocks", n=2)
    report = deliver(store, slack_server)
    assert report.failed == 1 and report.sent == 0
    (row,) = store.outbox_rows(("failed",))
    assert "rejected even as plain text" in row.last_error


def test_missing_history_scope_keeps_an_interrupted_alert_queued_and_names_the_scope(
    store, slack_server
):
    (aid, _) = enqueue(store, "https://news.example/interrupted", story="i")
    store.release_alert(aid, "process died mid-send", needs_lookup=True)  # outcome unknown
    enqueue(store, "https://news.example/fresh", story="f")
    slack_server.missing_scopes.add("channels:history")

    first = deliver(store, slack_server)
    second = deliver(store, slack_server)

    assert first.sent == 1  # a fresh alert needs no look-up: it goes out
    assert first.pending == 1 and second.pending == 1 and second.sent == 0
    assert [n for n in first.notices + second.notices if "channels:history" in n] == [
        first.notices[0]
    ]
    (row,) = store.outbox_rows(("sending",))  # still "not known to be posted"
    assert row.id == aid and "missing_scope" in row.last_error

    slack_server.missing_scopes.clear()
    third = deliver(store, slack_server)
    assert third.sent == 1
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in _geo(slack_server)]
    assert sorted(ids) == sorted(set(ids)) and aid in ids and len(ids) == 2


def test_an_interrupted_alert_already_in_slack_is_not_posted_again_after_the_scope_fix(
    store, slack_server
):
    (aid, _) = enqueue(store, "https://news.example/posted", story="p")
    deliver(store, slack_server)  # posted ...
    store.release_alert(aid, "crash before mark", needs_lookup=True)  # ... but never marked
    slack_server.missing_scopes.add("channels:history")
    assert deliver(store, slack_server).pending == 1
    slack_server.missing_scopes.clear()
    assert deliver(store, slack_server).sent == 1
    assert len(_geo(slack_server)) == 1


def test_alerts_queued_too_long_expire_with_their_reason_and_retry_puts_them_back(
    store, slack_server
):
    enqueue(store, "https://news.example/old")
    slack_server.not_in_channels.add("#geo")
    deliver(store, slack_server)

    later = utcnow() + timedelta(days=8)
    report = deliver(store, slack_server, now=later, expire_after_days=7)

    assert report.expired == 1 and report.pending == 0
    (row,) = store.outbox_rows(("expired",))
    assert "7 day" in row.last_error and "not_in_channel" in row.last_error
    assert any("expired unsent" in n and "outbox retry" in n for n in report.notices)

    assert store.retry_alerts(topic=TOPIC.id) == 1
    slack_server.not_in_channels.clear()
    assert deliver(store, slack_server).sent == 1
    assert len(_geo(slack_server)) == 1


def test_an_unknown_final_error_fails_the_alert(store, slack_server):
    enqueue(store, "https://news.example/x")
    slack_server.error_next("invalid_arguments")
    report = deliver(store, slack_server)
    assert report.failed == 1 and "invalid_arguments in #geo" in report.problem
    assert store.retry_alerts(alert_id=store.outbox_rows(("failed",))[0].id[:10]) == 1
    assert deliver(store, slack_server).sent == 1
