"""Where the store lives, empty topic lists and unreadable config files: what a user sees."""

from __future__ import annotations

import pytest
import yaml
from newsroom import SPORT, serve, visit_article, write_config
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.config import load_config
from newswatch.pass_ import run_pass
from newswatch.store import Store
from newswatch.urls import canonical_url

runner = CliRunner()


def _minimal(cfg, topics: str = "topics: []\n", store: str = "sqlite:///state/nw.db"):
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "settings.yaml").write_text(yaml.safe_dump({"store": {"url": store}}))
    (cfg / "sources.yaml").write_text("sources: []\n")
    (cfg / "topics.yaml").write_text(topics)
    return cfg


def test_a_relative_sqlite_path_is_relative_to_the_config_dir_not_the_working_dir(
    tmp_path, monkeypatch
):
    cfg = _minimal(tmp_path / "deploy" / "config")
    urls = set()
    for cwd in (tmp_path, tmp_path / "deploy", cfg):
        monkeypatch.chdir(cwd)
        urls.add(load_config(cfg.relative_to(cwd) if cwd != cfg else ".").settings.store.url)
    assert urls == {f"sqlite:///{cfg.resolve() / 'state' / 'nw.db'}"}


def test_run_and_status_say_which_store_they_use(tmp_path):
    cfg = _minimal(tmp_path / "config")
    result = runner.invoke(app, ["status", "--config-dir", str(cfg)])
    assert result.exit_code == 0, result.output
    expected = f"store:sqlite:///{cfg.resolve() / 'state' / 'nw.db'}"
    assert expected in "".join(result.output.split())  # rich wraps long lines


def test_check_warns_on_an_empty_topics_list(tmp_path):
    cfg = _minimal(tmp_path / "config")
    result = runner.invoke(app, ["check", "--config-dir", str(cfg)])
    assert result.exit_code == 0
    assert "no enabled topic" in result.output


@pytest.mark.parametrize("name", ["topics.yaml", "settings.yaml", "sources.yaml"])
def test_a_config_file_that_is_not_utf8_is_named_with_exit_2(tmp_path, name):
    cfg = _minimal(tmp_path / "config", topics="topics:\n  - {id: t, name: T, description: d}\n")
    path = cfg / name
    path.write_bytes(path.read_bytes() + "# Café Müller\n".encode("latin-1"))
    result = runner.invoke(app, ["check", "--config-dir", str(cfg)])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert f"{name}: not UTF-8 text" in out and "Traceback" not in out


def test_a_pass_with_no_enabled_topic_marks_nothing_seen(site, tmp_path):
    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config", store_url="sqlite:///nw.db", sources=[{"name": "W", "url": feed}]
    )
    (cfg / "topics.yaml").write_text("topics: []\n")
    for extra in (cfg / "topics").glob("*.y*ml"):
        extra.unlink()
    stats = run_pass(load_config(cfg))
    assert stats.sources_polled == 1 and stats.new_articles == 0
    store = Store(load_config(cfg).settings.store.url)
    try:
        urls = [site.url(f"/news/{a['slug']}.html") for a in (visit_article(), SPORT)]
        assert store.seen(urls + [canonical_url(u) for u in urls]) == set()
    finally:
        store.close()


def test_two_runs_from_different_working_directories_share_one_store(
    site, slack_server, tmp_path, monkeypatch, embedder
):
    feed = serve(site, [visit_article()])
    cfg = write_config(
        tmp_path / "srv" / "config",
        store_url="sqlite:///../data/nw.db",
        sources=[{"name": "W", "url": feed}],
        slack_api_url=slack_server.api_url,
    )
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "srv")
    first = run_pass(load_config("config"))
    monkeypatch.chdir(tmp_path / "elsewhere")
    second = run_pass(load_config(cfg))
    assert first.alerts_queued == 1 and first.alerts_sent == len(slack_server.messages)
    assert second.new_articles == 0 and second.alerts_sent == 0
    assert (tmp_path / "srv" / "data" / "nw.db").exists()
    assert not (tmp_path / "elsewhere" / "data").exists()
