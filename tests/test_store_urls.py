"""Store URLs as users write them, and every way a store can be unusable, in one line.

Real parts: the PostgreSQL on 127.0.0.1:5432 (psycopg 3 and psycopg2), SQLite, the CLI
in-process, the local Slack-compatible server for `check`'s auth.test, and for the
"database goes away mid-pass" case a loopback TCP proxy in front of PostgreSQL that
the test cuts (a real dropped connection, then a refused one) and restores.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
from newsroom import SPORT, serve, visit_article, write_config
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.config import load_config
from newswatch.pass_ import Stages, run_pass
from newswatch.pass_.enqueue import record_and_enqueue
from newswatch.store import Store, StoreUnavailable

runner = CliRunner()


def _as(url: str, scheme: str) -> str:
    return scheme + "://" + url.split("://", 1)[1]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("scheme", "driver"),
    [
        ("postgresql", "psycopg"),
        ("postgresql+psycopg", "psycopg"),
        ("postgresql+psycopg2", "psycopg2"),
    ],
)
def test_every_postgresql_url_form_opens_the_store(pg_url, scheme, driver):
    store = Store(_as(pg_url, scheme))
    try:
        assert store.engine.dialect.driver == driver
        pid = store.start_pass()
        store.finish_pass(pid, {"ok": True})
        assert store.last_passes(1)[0]["summary"] == {"ok": True}
    finally:
        store.close()


def _cfg(tmp_path, store_url: str, **kw):
    return write_config(
        tmp_path / "config",
        store_url=store_url,
        sources=[{"name": "Example", "url": "https://example.org/feed.xml", "kind": "feed"}],
        **kw,
    )


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("postgresql://postgres:hunter2@127.0.0.1:1/test", "port 1 failed: Connection refused"),
        ("postgresql+psycopg2://postgres:hunter2@127.0.0.1:1/test", "Connection refused"),
        ("postgresql://nobody@127.0.0.1:5432/test", 'role "nobody" does not exist'),
        ("postgresql+pg8000://postgres@127.0.0.1:5432/test", "driver 'pg8000' is not installed"),
    ],
)
@pytest.mark.parametrize("command", ["check", "status", "run"])
def test_a_store_that_cannot_be_used_is_one_line_and_exit_2(tmp_path, url, cause, command):
    if "nobody" in url and not _pg_up():
        pytest.skip("needs the PostgreSQL on 127.0.0.1:5432")
    result = runner.invoke(app, [command, "--config-dir", str(_cfg(tmp_path, url))])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("store.url")]
    assert len(lines) == 1, result.output
    line = lines[0]
    host = url.split("@", 1)[1].split("/", 1)[0]
    assert host in line and cause in line, line
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output and "pass done" not in result.output


def test_the_env_var_is_named_when_it_set_the_url(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, f"sqlite:///{tmp_path / 'fine.db'}")
    monkeypatch.setenv("NEWSWATCH_STORE_URL", "postgresql://app:pw@127.0.0.1:1/news")
    result = runner.invoke(app, ["status", "--config-dir", str(cfg)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("NEWSWATCH_STORE_URL (postgresql://app:***@127.0.0.1:1/news)")
    assert "Connection refused" in result.output and "pw@" not in result.output


def test_a_sqlite_path_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")
    result = runner.invoke(
        app, ["run", "--config-dir", str(_cfg(tmp_path, f"sqlite:///{blocker}/nw.db"))]
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"store.url (sqlite:///{blocker}/nw.db)"), result.output
    assert "File exists" in result.output and "Traceback" not in result.output


def _pg_up() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), timeout=2):
        return True
    return False


def test_check_reports_store_slack_and_prefect(tmp_path, slack_server, monkeypatch):
    cfg = _cfg(tmp_path, f"sqlite:///{tmp_path / 'nw.db'}", slack_api_url=slack_server.api_url)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    ok = runner.invoke(app, ["check", "--config-dir", str(cfg)])
    assert ok.exit_code == 0, ok.output
    assert "store OK: sqlite:///" in ok.output
    assert "slack OK: team newswatch-test" in ok.output
    assert "prefect API: none set: `serve` starts a local Prefect server" in ok.output
    assert slack_server.requests_to("auth.test")

    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", "xoxb-revoked")
    bad = runner.invoke(app, ["check", "--config-dir", str(cfg)])
    assert bad.exit_code == 1, bad.output
    assert "token in $NEWSWATCH_TEST_SLACK_TOKEN rejected: invalid_auth" in bad.output
    assert "xoxb-revoked" not in bad.output


class _Proxy:
    """A loopback TCP proxy to PostgreSQL that can be cut (connections dropped, port closed)."""

    def __init__(self, target: tuple[str, int], port: int = 0):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        with contextlib.suppress(OSError):  # wakes the blocked accept(); close alone does not
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for c in self.conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            self.conns.clear()


@pytest.mark.postgres
def test_a_database_that_goes_away_mid_pass_ends_it_clearly_and_the_next_pass_delivers(
    pg_url, site, slack_server, tmp_path, monkeypatch, embedder
):
    proxy = _Proxy(("127.0.0.1", 5432))
    url = _as(pg_url, "postgresql").replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url=url,
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
        slack_api_url=slack_server.api_url,
    )
    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    config = load_config(cfg)

    def record_then_cut(*args, **kwargs):  # the alert is queued, then the database vanishes
        record_and_enqueue(*args, **kwargs)
        proxy.cut()

    with pytest.raises(StoreUnavailable) as exc:
        run_pass(config, stages=Stages(record=record_then_cut))
    reason = str(exc.value)
    assert reason.startswith(f"store.url (postgresql://postgres@127.0.0.1:{proxy.port}/test")
    assert "\n" not in reason and "cannot use the store" in reason
    assert not slack_server.messages  # nothing was sent, and nothing is lost:

    proxy = _Proxy(("127.0.0.1", 5432), port=proxy.port)  # the database is back
    try:
        second = run_pass(config)
    finally:
        proxy.cut()
    assert second.alerts_sent == 1
    alerts = [
        m
        for m in slack_server.messages
        if (m.get("metadata") or {}).get("event_type") == "newswatch_alert"
    ]
    assert len(alerts) == 1
