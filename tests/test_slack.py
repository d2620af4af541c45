"""Notifiers driven through the real slack_sdk clients against the local Slack server."""

from __future__ import annotations

import io
import json
import socket
import sys
import time
import types

import pytest
from slack_server import SlackServer, slack_server_fixture  # noqa: F401  (fixture)
from test_blocks import GOLDEN, kim_alert, with_article, with_match

from newswatch.notify import (
    DeliveryError,
    FanoutNotifier,
    JsonlNotifier,
    NotifierSetupError,
    SlackMessage,
    SlackNotifier,
    StdoutNotifier,
    WebhookNotifier,
    alert_message,
    build_notifier,
    notice_message,
)
from newswatch.notify.slack import Throttle
from newswatch.schema import SlackSettings


def make_notifier(server: SlackServer, **kwargs) -> SlackNotifier:
    kwargs.setdefault("min_seconds_between_posts", 0)
    return SlackNotifier(server.token, server.api_url, timeout=5, retry_backoff=0.01, **kwargs)


def test_golden_alert_arrives_intact(slack_server):
    delivery = make_notifier(slack_server).send(alert_message(kim_alert()))
    golden = json.loads((GOLDEN / "alert_leader_visit.json").read_text(encoding="utf-8"))
    [stored] = slack_server.messages
    assert delivery.channel == stored["channel"] == slack_server.channel_id("#alerts")
    assert delivery.ts == stored["ts"]
    assert stored["blocks"] == golden["blocks"]
    assert stored["text"] == golden["text"]
    assert stored["metadata"] == golden["metadata"]
    assert stored["unfurl_links"] is False and stored["thread_ts"] is None
    [request] = slack_server.requests
    assert request["headers"]["Authorization"] == f"Bearer {slack_server.token}"


def test_hostile_title_arrives_escaped(slack_server):
    alert = with_article(kim_alert(), title="<!channel> Kim <@U123> visit <http://evil|bank>")
    make_notifier(slack_server).send(alert_message(alert))
    [stored] = slack_server.messages
    wire = json.dumps([stored["text"], stored["blocks"]])
    assert "<!channel>" not in wire and "<@U123>" not in wire and "<http://evil" not in wire
    assert "&lt;!channel&gt; Kim &lt;@U123&gt; visit &lt;http://evil|bank&gt;" in wire
    assert stored["text"].startswith("[Leader foreign visit] &lt;!channel&gt;")


def test_rate_limit_retry_after_is_honoured(slack_server):
    slack_server.rate_limit_next(1, retry_after=1)
    started = time.monotonic()
    delivery = make_notifier(slack_server).send(alert_message(kim_alert()))
    elapsed = time.monotonic() - started
    posts = slack_server.requests_to("chat.postMessage")
    assert [r["status"] for r in posts] == [429, 200]
    assert posts[1]["at"] - posts[0]["at"] >= 0.95
    assert elapsed >= 0.95
    assert [m["ts"] for m in slack_server.messages] == [delivery.ts]


def test_rate_limit_exhaustion_is_transient(slack_server):
    slack_server.rate_limit_next(2, retry_after=0)
    with pytest.raises(DeliveryError) as info:
        make_notifier(slack_server, max_retries=1).send(alert_message(kim_alert()))
    assert info.value.transient and "ratelimited" in info.value.reason
    assert slack_server.messages == []


def test_long_retry_after_is_not_slept_through(slack_server):
    slack_server.rate_limit_next(1, retry_after=120)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as info:
        make_notifier(slack_server, max_retry_after=30).send(alert_message(kim_alert()))
    assert time.monotonic() - started < 5
    assert info.value.transient and "ratelimited" in info.value.reason
    assert len(slack_server.requests) == 1


def test_server_errors_are_retried_then_transient_then_recover(slack_server):
    notifier = make_notifier(slack_server, max_retries=2)
    slack_server.fail_all(500)
    with pytest.raises(DeliveryError) as info:
        notifier.send(alert_message(kim_alert()))
    err = info.value
    assert err.transient
    assert "\n" not in err.reason and "Traceback" not in err.reason
    assert err.reason == "chat.postMessage failed: fatal_error in #alerts (HTTP 500)"
    assert len(slack_server.requests_to("chat.postMessage")) == 3  # 1 + 2 retries
    slack_server.recover()
    assert notifier.send(alert_message(kim_alert())).ts == slack_server.messages[0]["ts"]


def test_single_server_error_is_absorbed_by_retry(slack_server):
    slack_server.fail_next(1, status=503)
    make_notifier(slack_server).send(alert_message(kim_alert()))
    assert [r["status"] for r in slack_server.requests] == [503, 200]
    assert len(slack_server.messages) == 1


def test_permanent_errors_name_the_slack_code(slack_server):
    slack_server.missing_channels.add("#gone")
    with pytest.raises(DeliveryError) as info:
        make_notifier(slack_server).send(alert_message(kim_alert(channel="#gone")))
    assert not info.value.transient
    assert info.value.reason == "chat.postMessage failed: channel_not_found in #gone (HTTP 200)"
    assert info.value.code == "channel_not_found" and info.value.channel == "#gone"

    bad = SlackNotifier("xoxb-wrong", slack_server.api_url, min_seconds_between_posts=0)
    with pytest.raises(DeliveryError) as info:
        bad.send(alert_message(kim_alert()))
    assert not info.value.transient and "invalid_auth" in info.value.reason
    with pytest.raises(DeliveryError, match="invalid_auth"):
        bad.check()
    assert make_notifier(slack_server).check() == "U0NEWSBOT"


def test_unreachable_slack_is_transient():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = SlackNotifier(
        "xoxb-x", f"http://127.0.0.1:{port}/api/", min_seconds_between_posts=0, retry_backoff=0.01
    )
    with pytest.raises(DeliveryError) as info:
        notifier.send(alert_message(kim_alert()))
    assert info.value.transient and "cannot reach Slack" in info.value.reason


def test_find_sent_by_alert_id(slack_server):
    notifier = make_notifier(slack_server)
    since = time.time() - 60
    first = notifier.send(alert_message(kim_alert(id="a-1")))
    notifier.send(alert_message(kim_alert(id="a-2")))
    notifier.send(notice_message("#alerts", "unrelated notice"))
    found = notifier.find_sent("#alerts", "a-1", since)
    assert found is not None and found.ts == first.ts
    assert notifier.find_sent("#alerts", "a-404", since) is None
    assert notifier.find_sent("#alerts", "a-1", float(first.ts)) is None  # oldest is exclusive
    assert notifier.find_sent("#elsewhere", "a-1", since) is None
    history = slack_server.requests_to("conversations.history")[0]["params"]
    assert history["include_all_metadata"] in ("1", 1, True)


def test_find_sent_in_thread(slack_server):
    notifier = make_notifier(slack_server)
    parent = notifier.send(alert_message(kim_alert(id="a-1")))
    followup = with_article(kim_alert(id="a-1-f", thread_ts=parent.ts), source="Yonhap")
    reply = notifier.send(alert_message(followup))
    assert slack_server.messages[-1]["thread_ts"] == parent.ts
    # Slack's channel history does not list thread replies; the thread does.
    assert notifier.find_sent("#alerts", "a-1-f", 0) is None
    found = notifier.find_sent("#alerts", "a-1-f", 0, thread_ts=parent.ts)
    assert found is not None and found.ts == reply.ts


def test_synthetic_thread_ts_is_not_sent_to_slack(slack_server):
    alert = kim_alert(thread_ts="webhook:1713420000.000100:abcd")
    make_notifier(slack_server).send(alert_message(alert))
    assert slack_server.messages[0]["thread_ts"] is None


def test_lost_response_is_transient_and_find_sent_recovers_it(slack_server):
    """The crash window: Slack stored the post but we never heard back."""

    def drop(_message):
        raise ConnectionAbortedError("simulated crash before the response")

    slack_server.on_post(drop, once=True)
    notifier = make_notifier(slack_server)
    with pytest.raises(DeliveryError) as info:
        notifier.send(alert_message(kim_alert(id="a-lost")))
    assert info.value.transient
    assert len(slack_server.messages) == 1  # posted once, not re-sent by a retry handler
    found = notifier.find_sent("#alerts", "a-lost", 0)
    assert found is not None and found.ts == slack_server.messages[0]["ts"]


def test_on_post_hook_runs_before_the_client_hears_back(slack_server):
    seen: list[str] = []
    slack_server.on_post(lambda message: seen.append(message["ts"]))
    delivery = make_notifier(slack_server).send(alert_message(kim_alert()))
    assert seen == [delivery.ts]


def test_throttle_spaces_posts_per_channel(slack_server):
    notifier = make_notifier(slack_server, min_seconds_between_posts=0.3)
    notifier.send(alert_message(kim_alert(id="a-1")))
    notifier.send(alert_message(kim_alert(id="a-2", channel="#other")))  # not delayed
    notifier.send(alert_message(kim_alert(id="a-3")))
    first, other, third = slack_server.requests_to("chat.postMessage")
    assert other["at"] - first["at"] < 0.25
    assert third["at"] - first["at"] >= 0.29


def test_throttle_with_injected_clock():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(1.0, clock=lambda: now[0], sleep=sleep)
    assert throttle.wait("#a") == 0
    assert throttle.wait("#b") == 0
    now[0] += 0.25
    assert throttle.wait("#a") == pytest.approx(0.75)
    assert throttle.wait("#a") == pytest.approx(1.0)
    now[0] += 5
    assert throttle.wait("#a") == 0
    assert slept == [pytest.approx(0.75), pytest.approx(1.0)]


def test_truncated_alert_is_accepted_by_slack(slack_server):
    alert = with_article(kim_alert(), title="Kim visit & talks " * 17)
    alert = with_match(alert, evidence="Kim Jong Un will attend <celebrations>. " * 260)
    make_notifier(slack_server).send(alert_message(alert))
    [stored] = slack_server.messages
    assert stored["blocks"][2]["text"]["text"].endswith("…")


def test_webhook_delivery(slack_server):
    notifier = WebhookNotifier(slack_server.webhook_url("T1/B1/abc"), retry_backoff=0.01)
    delivery = notifier.send(alert_message(kim_alert()))
    assert delivery.ts.startswith("webhook:")
    [stored] = slack_server.messages
    assert stored["channel"] == "webhook:T1/B1/abc"
    assert stored["blocks"] == alert_message(kim_alert()).blocks
    assert notifier.find_sent("#alerts", "a-7f3c2e", 0) is None

    slack_server.fail_all(500)
    with pytest.raises(DeliveryError) as info:
        notifier.send(alert_message(kim_alert()))
    assert info.value.transient and "HTTP 500" in info.value.reason
    slack_server.recover()

    # bypass validation to see how a rejected payload is reported
    empty = SlackMessage.model_construct(
        channel="#alerts", text="", blocks=[], metadata=None, thread_ts=None
    )
    with pytest.raises(DeliveryError) as info:
        notifier.send(empty)
    assert not info.value.transient and "no_text" in info.value.reason


def test_stdout_notifier_prints_readable_safe_text():
    stream = io.StringIO()
    hostile = with_article(kim_alert(), title="Kim \x1b[2Jvisit <!channel>")
    delivery = StdoutNotifier(stream).send(alert_message(hostile))
    out = stream.getvalue()
    assert delivery.ts.startswith("local:")
    assert "\x1b" not in out
    assert "Kim [2Jvisit <!channel> (https://news.example.com/world/kim-russia-visit)" in out
    assert "Example Wire" in out and "2025-04-18 06:12 UTC" in out and "0.83" in out


def test_jsonl_notifier_appends_and_finds(tmp_path):
    path = tmp_path / "out" / "alerts.jsonl"
    notifier = JsonlNotifier(path)
    first = notifier.send(alert_message(kim_alert(id="a-1")))
    notifier.send(alert_message(kim_alert(id="a-2")))
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["alert_id"] for r in records] == ["a-1", "a-2"]
    assert records[0]["url"] == "https://news.example.com/world/kim-russia-visit"
    assert notifier.find_sent("#alerts", "a-1", 0) == first
    assert notifier.find_sent("#alerts", "a-3", 0) is None
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"torn')  # a crash mid-line must not break look-back
    assert notifier.find_sent("#alerts", "a-2", 0) is not None


def test_build_notifier_picks_by_environment(monkeypatch, tmp_path):
    settings = SlackSettings(token_env="NW_TEST_TOKEN", webhook_url_env="NW_TEST_HOOK")
    monkeypatch.delenv("NW_TEST_TOKEN", raising=False)
    monkeypatch.delenv("NW_TEST_HOOK", raising=False)
    assert isinstance(build_notifier(settings), StdoutNotifier)
    both = build_notifier(settings, alerts_jsonl=str(tmp_path / "a.jsonl"))
    assert isinstance(both, FanoutNotifier) and both.name == "jsonl+stdout"
    monkeypatch.setenv("NW_TEST_HOOK", "http://127.0.0.1:9/webhook/x")
    assert isinstance(build_notifier(settings), WebhookNotifier)
    monkeypatch.setenv("NW_TEST_TOKEN", "xoxb-1")
    assert isinstance(build_notifier(settings), SlackNotifier)


def _fake_prefect_secret(monkeypatch, value=None, error=None) -> list[str]:
    loaded: list[str] = []

    class Secret:
        @classmethod
        def load(cls, name):
            loaded.append(name)
            if error:
                raise error
            return types.SimpleNamespace(get=lambda: value)

    module = types.ModuleType("prefect.blocks.system")
    module.Secret = Secret
    monkeypatch.setitem(sys.modules, "prefect.blocks.system", module)
    return loaded


def test_token_from_prefect_secret_block_is_lazy(monkeypatch):
    monkeypatch.delenv("NW_TEST_TOKEN", raising=False)
    loaded = _fake_prefect_secret(monkeypatch, value="xoxb-from-block")
    settings = SlackSettings(token_env="NW_TEST_TOKEN", token_secret_block="slack-bot-token")
    notifier = build_notifier(settings)
    assert isinstance(notifier, SlackNotifier) and notifier.client.token == "xoxb-from-block"
    assert loaded == ["slack-bot-token"]

    monkeypatch.setenv("NW_TEST_TOKEN", "xoxb-env")  # the env var wins, block untouched
    assert build_notifier(settings).client.token == "xoxb-env"
    assert loaded == ["slack-bot-token"]


def test_unloadable_secret_block_is_an_error_not_a_silent_fallback(monkeypatch):
    monkeypatch.delenv("NW_TEST_TOKEN", raising=False)
    _fake_prefect_secret(monkeypatch, error=ValueError("Unable to find block document"))
    settings = SlackSettings(token_env="NW_TEST_TOKEN", token_secret_block="missing")
    with pytest.raises(NotifierSetupError, match="missing"):
        build_notifier(settings)
