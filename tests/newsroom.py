"""A small news site for end-to-end tests: article pages behind an RSS feed on a loopback Site.

Pages and feeds are built with the demo's own HTML and RSS writers, so the demo
and the tests exercise the same markup (paywall and newsletter boilerplate included).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from conftest import ROOT, SHARED_DATA
from site_server import Site

from newswatch.demo import demo_articles, page_html, rss, seed_article

SPORT = {
    "slug": "cup-final-report",
    "outlet": "Test Sports",
    "published": "2015-01-29T21:00:00Z",
    "title": "Late header sends United into the cup final",
    "paragraphs": [
        "A stoppage-time header from the captain sent United into the cup final on Tuesday "
        "night after a tense semi-final that had looked destined for extra time.",
        "The visitors had the better of the first half and hit the post twice before the "
        "break, but United's goalkeeper kept them in the game with three fine saves.",
        "The final will be played at the national stadium next month.",
    ],
}


def visit_article() -> dict:
    """The seed story when the shared data is present, else the demo's own write-up of it."""
    return seed_article() or next(
        a for a in demo_articles() if a["slug"] == "kim-confirms-russia-trip"
    )


def serve(site: Site, articles: list[dict], feed_path: str = "/feed.xml") -> str:
    for a in articles:
        site.add(
            f"/news/{a['slug']}.html",
            page_html(a["title"], a["outlet"], a["published"], a["paragraphs"]),
        )
    site.add(feed_path, rss(site.base_url, articles), content_type="application/rss+xml")
    return site.url(feed_path)


def write_config(
    config_dir: Path,
    *,
    store_url: str,
    sources: list[dict],
    slack_api_url: str | None = None,
    token_env: str = "NEWSWATCH_TEST_SLACK_TOKEN",
    settings: dict | None = None,
) -> Path:
    """A config dir using the project's shipped topics, with test sources and settings."""
    config_dir.mkdir(parents=True, exist_ok=True)
    base = {
        "store": {"url": store_url},
        "slack": {
            "token_env": token_env,
            "base_url": slack_api_url or "http://127.0.0.1:9/api/",
            "default_channel": "#newswatch-test",
            "min_seconds_between_posts": 0,
        },
        "network": {
            "allow_private_addresses": True,
            "respect_robots_txt": False,
            "timeout_seconds": 2,
            "retries": 0,
        },
    }
    for key, value in (settings or {}).items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    (config_dir / "settings.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    (config_dir / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    shipped = ROOT / "config"
    if (shipped / "topics.yaml").exists():
        shutil.copy(shipped / "topics.yaml", config_dir / "topics.yaml")
    if (shipped / "topics").is_dir():
        shutil.copytree(shipped / "topics", config_dir / "topics", dirs_exist_ok=True)
    return config_dir


__all__ = ["SHARED_DATA", "SPORT", "serve", "visit_article", "write_config"]
