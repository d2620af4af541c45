"""A rotated Slack token, as the operator meets it: Failed flow run, `outbox`, the fix.

Real Prefect flow (test harness), site, model, SQLite and the loopback Slack server.
"""

from __future__ import annotations

import pytest
from newsroom import SPORT, serve, visit_article, write_config
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.config import load_config
from newswatch.store import Store

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_revoked_token_fails_the_flow_run_lists_the_queue_and_the_fix_delivers_once(
    site, slack_server, tmp_path, monkeypatch, embedder
):
    from newswatch.flows.monitor import monitor_pass

    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url="sqlite:///nw.db",
        sources=[
            {"name": "Wire", "url": feed},
            {"name": "Gone", "url": site.url("/missing.xml")},
        ],
        slack_api_url=slack_server.api_url,
    )
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    slack_server.error_all("token_revoked")

    state = monitor_pass(config_dir=str(cfg), return_state=True)
    assert state.is_failed()
    assert "token revoked: set NEWSWATCH_TEST_SLACK_TOKEN" in str(state.message)
    assert slack_server.messages == []

    listed = runner.invoke(app, ["outbox", "--config-dir", str(cfg)])
    assert listed.exit_code == 0, listed.output
    out = _flat(listed.output)
    assert "pending" in out and "token_revoked" in out
    assert "to fix: token revoked: set NEWSWATCH_TEST_SLACK_TOKEN" in out

    run = runner.invoke(app, ["run", "--config-dir", str(cfg)])  # still revoked: exit 1
    assert run.exit_code == 1 and "delivery blocked" in _flat(run.output)

    slack_server.recover()
    state = monitor_pass(config_dir=str(cfg), return_state=True)
    assert state.is_completed()  # one source still fails: that alone is not a Failed run
    summary = state.result()
    alerts = [m for m in slack_server.messages if m["metadata"]["event_type"].endswith("alert")]
    assert summary["alerts_sent"] == len(alerts) >= 1
    assert [n for n in summary["sources_failed"] if n[0] == "Gone"]
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in alerts]
    assert len(ids) == len(set(ids))
    assert "nothing pending" in runner.invoke(app, ["outbox", "--config-dir", str(cfg)]).output


def test_outbox_retry_requeues_failed_alerts_by_topic_or_id(tmp_path, slack_server):
    from test_delivery import TOPIC, enqueue

    cfg = write_config(tmp_path / "config", store_url="sqlite:///nw.db", sources=[])
    store = Store(load_config(cfg).settings.store.url)
    try:
        a, _ = enqueue(store, "https://news.example/a", story="a")
        b, _ = enqueue(store, "https://news.example/b", story="b")
        for aid in (a, b):
            store.release_alert(aid, "chat.postMessage failed: invalid_arguments", permanent=True)

        out = _flat(runner.invoke(app, ["outbox", "--config-dir", str(cfg)]).output)
        assert out.count("failed") >= 2 and "invalid_arguments" in out and "outbox retry" in out

        one = runner.invoke(app, ["outbox", "retry", "--config-dir", str(cfg), "--id", a[:10]])
        assert one.exit_code == 0 and "1 alert(s) put back" in one.output
        assert [r.id for r in store.outbox_rows(("pending",))] == [a]
        other = runner.invoke(app, ["outbox", "retry", "-c", str(cfg), "--topic", TOPIC.id])
        assert "1 alert(s) put back" in other.output
        assert {r.id for r in store.outbox_rows(("pending",))} == {a, b}
    finally:
        store.close()
