"""Every CLI command, as a user calls it (typer's runner, real config, real model)."""

from __future__ import annotations

import json

import pytest
from newsroom import SPORT, serve, visit_article, write_config
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.demo import page_html

runner = CliRunner()

VISIT_TEXT = (
    "Prime Minister to visit Japan next week\n"
    "The prime minister will travel to Tokyo next week for talks with the Japanese "
    "prime minister on trade and security, her office announced on Monday."
)


@pytest.fixture
def config_dir(tmp_path):
    return write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Example", "url": "https://example.org/feed.xml", "kind": "feed"}],
    )


def test_check_accepts_the_shipped_config():
    result = runner.invoke(app, ["check", "--config-dir", "config"])
    assert result.exit_code == 0, result.output
    assert "leader-foreign-visit" in result.output and "sanctions" in result.output


def test_check_lists_every_problem_with_file_and_field(tmp_path):
    cfg = tmp_path / "bad"
    cfg.mkdir()
    (cfg / "settings.yaml").write_text("network:\n  timeout_seconds: -1\n  colour: red\n")
    (cfg / "sources.yaml").write_text(
        "sources:\n  - {name: A, url: 'ftp://x/feed', kind: feed}\n"
        "  - {name: B, url: 'https://x/feed', kind: telepathy}\n"
    )
    (cfg / "topics.yaml").write_text("topics:\n  - {id: Bad Id, name: X}\n")
    result = runner.invoke(app, ["check", "--config-dir", str(cfg)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "settings.yaml: network.timeout_seconds" in out
    assert "settings.yaml: network.colour: Extra inputs are not permitted" in out
    assert "sources.yaml: sources[0] (A).url" in out
    assert "sources.yaml: sources[1] (B).kind: unknown source kind 'telepathy'" in out
    assert "topics.yaml: topics[0] (Bad Id).id" in out
    assert "topics.yaml: topics[0] (Bad Id).description: Field required" in out


def test_check_falls_back_to_env_config_dir(config_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSWATCH_CONFIG_DIR", str(config_dir))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert str(config_dir) in result.output


def test_run_refuses_a_broken_config_before_doing_anything(tmp_path):
    result = runner.invoke(app, ["run", "--config-dir", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "config directory not found" in result.output


def test_score_writes_one_line_per_article_with_every_topic(config_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    rows = [
        {
            "id": "v",
            "title": VISIT_TEXT.split("\n")[0],
            "text": VISIT_TEXT.split("\n")[1],
            "source": "kept",
        },
        {"id": "s", "title": SPORT["title"], "text": " ".join(SPORT["paragraphs"])},
    ]
    inp.write_text("\n".join(json.dumps(r) for r in rows))
    outp = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["score", "--input", str(inp), "--output", str(outp), "--config-dir", str(config_dir)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in outp.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["v", "s"]
    assert lines[0]["source"] == "kept"
    visit = lines[0]["topics"]["leader-foreign-visit"]
    assert visit["matched"] is True and "Tokyo" in visit["evidence"]
    assert not any(t["matched"] for t in lines[1]["topics"].values())
    assert set(lines[0]["topics"]) >= {"leader-foreign-visit", "sanctions"}


def test_score_reports_bad_jsonl_with_line_number(config_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": 1, "title": "a", "text": "b"}\n{not json\n')
    result = runner.invoke(app, ["score", "--input", str(inp), "--config-dir", str(config_dir)])
    assert result.exit_code == 2
    assert "in.jsonl:2: not valid JSON" in result.output


def test_eval_prints_metrics_errors_and_writes_a_plot(config_dir, tmp_path):
    inp, labels, plot = tmp_path / "a.jsonl", tmp_path / "l.jsonl", tmp_path / "eval.png"
    inp.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": "v", "title": "Prime Minister to visit Japan", "text": VISIT_TEXT},
                {"id": "s", "title": SPORT["title"], "text": " ".join(SPORT["paragraphs"])},
                {"id": "b", "title": "Borderline", "text": "The president may travel."},
            ]
        )
    )
    labels.write_text(
        '{"id": "v", "leader-foreign-visit": 1}\n{"id": "b", "leader-foreign-visit": 2}\n'
    )
    result = runner.invoke(
        app,
        [
            "eval",
            "--input",
            str(inp),
            "--labels",
            str(labels),
            "--plot",
            str(plot),
            "--config-dir",
            str(config_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "leader-foreign-visit: precision 1.000 recall 1.000 F1 1.000" in result.output
    assert "1 borderline left out" in result.output
    assert plot.exists() and plot.stat().st_size > 10_000


def test_explain_text_shows_passage_and_verdict(config_dir):
    result = runner.invoke(app, ["explain", "--text", VISIT_TEXT, "--config-dir", str(config_dir)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "leader-foreign-visit: MATCH" in out
    assert "Tokyo" in out
    assert "centrality 1.00: in the headline or lead" in out  # why the sentence counts
    assert "sanctions: no match" in out


def test_explain_a_saved_page_and_a_url_quote_the_story_not_the_boilerplate(
    config_dir, site, tmp_path
):
    a = visit_article()
    page = tmp_path / "page.html"
    page.write_text(page_html(a["title"], a["outlet"], a["published"], a["paragraphs"]))
    serve(site, [a])
    for source in (["--file", str(page)], ["--url", site.url(f"/news/{a['slug']}.html")]):
        result = runner.invoke(app, ["explain", *source, "--config-dir", str(config_dir)])
        assert result.exit_code == 0, result.output
        out = " ".join(result.output.split())
        assert "leader-foreign-visit: MATCH" in out and "Kim" in out, out
        assert "Subscribe" not in out and "Dear Reader" not in out


def test_explain_names_a_page_it_cannot_read(config_dir, site):
    result = runner.invoke(
        app, ["explain", "--url", site.url("/news/missing.html"), "--config-dir", str(config_dir)]
    )
    assert result.exit_code == 1
    assert "cannot read input" in result.output and "missing.html" in result.output


def test_explain_needs_exactly_one_input(config_dir):
    result = runner.invoke(app, ["explain", "--config-dir", str(config_dir)])
    assert result.exit_code == 2


@pytest.mark.usefixtures("prefect_harness")
def test_run_then_sources_status_backtest_on_a_loopback_site(site, tmp_path):
    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
    )
    jsonl = tmp_path / "alerts.jsonl"
    result = runner.invoke(app, ["run", "--config-dir", str(cfg), "--alerts-jsonl", str(jsonl)])
    assert result.exit_code == 0, result.output
    assert "new articles 2" in result.output
    alerts = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert [a["topic"] for a in alerts] == ["leader-foreign-visit"]
    # printed to stdout too, readably
    assert "Leader" in result.output and visit_article()["slug"] in result.output

    result = runner.invoke(app, ["sources", "--config-dir", str(cfg)])
    assert result.exit_code == 0 and "Loopback Wire" in result.output and "ok" in result.output

    result = runner.invoke(app, ["status", "--config-dir", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "outbox: 0 pending, 1 sent, 0 failed" in result.output

    result = runner.invoke(app, ["backtest", "--since", "30d", "--config-dir", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "would alert: 1; new vs what alerted: 0; dropped: 0" in result.output

    result = runner.invoke(app, ["health", "--config-dir", str(cfg)])
    assert result.exit_code == 0 and "1 ok, 0 need attention" in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_demo_shows_alerts_without_network_or_slack():
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Kim" in out
    assert "follow-ups in the same event's thread" in out
    # the seed story (when ../shared is present) and the demo's wire copies of the same Kim
    # trip are one event; the EU sanctions story is the other
    assert "events: 2," in out and "Also reported by" in out
    assert "EU ministers agree to extend sanctions" in out
    assert "League sanctions club" not in out  # sport "sanctions" never alerts
    assert "Foreign minister begins" not in out  # ministers are not leaders


def test_run_rejects_a_bad_shard_before_running(config_dir):
    result = runner.invoke(app, ["run", "--shard", "3/3", "--config-dir", str(config_dir)])
    assert result.exit_code == 2
    assert "--shard: shard must be i/n" in result.output
