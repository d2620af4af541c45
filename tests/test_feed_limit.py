"""A feed over network.max_response_bytes: its newest items are read, the source is degraded."""

from __future__ import annotations

from newsroom import SPORT, write_config
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.config import load_config
from newswatch.demo import rss
from newswatch.http import Fetcher
from newswatch.pass_.poll import poll_sources, record_source_health
from newswatch.schema import NetworkSettings
from newswatch.store import Store


def _big_feed(base_url: str, n: int) -> bytes:
    items = [
        {**SPORT, "slug": f"r{i}", "title": f"Report {i}", "published": "2015-01-29T21:00:00Z"}
        for i in range(n)
    ]
    return rss(base_url, items)


def test_a_feed_over_the_size_limit_yields_its_first_items_and_is_degraded(site, tmp_path):
    body = _big_feed(site.base_url, 400)
    assert len(body) > 100_000
    site.add("/big.xml", body, content_type="application/rss+xml")
    cfg = write_config(
        tmp_path / "config",
        store_url="sqlite:///nw.db",
        sources=[{"name": "Big wire", "url": site.url("/big.xml"), "max_items": 10_000}],
        settings={"network": {"max_response_bytes": 50_000}},
    )
    config = load_config(cfg)
    fetcher = Fetcher(NetworkSettings(**config.settings.network.model_dump()))
    store = Store(config.settings.store.url)
    try:
        (poll,) = poll_sources(config.sources, fetcher, store, 2)
        assert poll.error is None
        assert 50 < len(poll.items) < 400  # the first (newest) ones, complete
        assert all(it.url.startswith(site.base_url) for it in poll.items)
        assert "network.max_response_bytes" in poll.degraded
        assert poll.etag is None  # a part must not make the whole feed "not modified"
        record_source_health([poll], [], {}, store, config)
    finally:
        store.close()
        fetcher.close()

    shown = CliRunner().invoke(app, ["sources", "--config-dir", str(cfg)])
    assert shown.exit_code == 0, shown.output
    flat = " ".join(shown.output.split())
    assert "degraded Big wire: larger than network.max_response_bytes" in flat


def test_a_page_over_the_limit_is_refused_naming_the_setting(site):
    site.add("/page.html", b"<p>" + b"x" * 5000)
    fetcher = Fetcher(
        NetworkSettings(max_response_bytes=1024, allow_private_addresses=True, retries=0)
    )
    from newswatch.http import FetchError

    try:
        fetcher.get(site.url("/page.html"), trusted=True)
    except FetchError as exc:
        assert "network.max_response_bytes" in exc.reason
    else:
        raise AssertionError("an oversized page was accepted")
    finally:
        fetcher.close()


def test_an_old_store_gets_the_new_columns_on_open(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).close()
    eng = sa.create_engine(url)
    with eng.begin() as conn:  # make it look like a version-1 store
        conn.exec_driver_sql("ALTER TABLE source_state DROP COLUMN degraded")
        conn.exec_driver_sql("ALTER TABLE alerts DROP COLUMN queued_at")
        conn.exec_driver_sql("DROP TABLE delivery_faults")
        conn.exec_driver_sql("UPDATE schema_info SET version = 1")
    eng.dispose()
    store = Store(url)
    try:
        store.record_poll("S", ok=True, degraded="cut")
        assert store.source_states()["S"]["degraded"] == "cut"
        assert store.record_fault("k", "", "text") and store.open_faults() == {"k": "text"}
        assert store.retry_alerts() == 0
    finally:
        store.close()
