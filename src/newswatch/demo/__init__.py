"""`newswatch demo`: a real pass over sample articles served on loopback.

No network, no Slack: a tiny HTTP server on 127.0.0.1 serves an RSS feed and
article pages (written for the project, plus the seed story when
../shared/data is present), and the real pipeline runs over them into a
throw-away store, printing the alerts.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import threading
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from rich.console import Console

from newswatch.config import load_config, resolve_config_dir
from newswatch.pass_ import run_pass

HERE = Path(__file__).parent
PAYWALL = (
    "<div class='paywall'><p>You've read 3 of 3 free articles. Subscribe to continue.</p>"
    "<p>Real news can be honest, hopeful, credible, constructive. Support our journalism: "
    "donate today.</p><form><label>Get the Daily Briefing newsletter</label>"
    "<input type='email'/><button>Sign up</button></form></div>"
)


def page_html(title: str, outlet: str, published: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    t = html.escape(title)
    return "\n".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            f'<title>{t} | {outlet}</title><meta property="og:title" content="{t}">',
            f'<meta property="article:published_time" content="{published}"></head><body>',
            '<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>',
            f'<main><article><h1>{t}</h1><p class="byline">By Demo Staff, {outlet}</p>',
            f"{body}</article>{PAYWALL}</main>",
            f"<footer><p>&copy; {outlet}. All rights reserved. <a href='/privacy'>Privacy</a>",
            "</p></footer></body></html>",
        ]
    )


def seed_article() -> dict | None:
    """The article the project was conceived from, when the shared data is around."""
    root = Path(os.environ.get("NEWSWATCH_SHARED_DATA") or HERE.parents[3] / "shared" / "data")
    files = sorted((root / "seed").glob("*.txt")) if root.is_dir() else []
    if not files:
        return None
    lines = [ln.strip() for ln in files[0].read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln and ln != "|"]
    return {
        "slug": "seed-csmonitor-kim-russia-visit",
        "outlet": "The Christian Science Monitor (seed)",
        "published": "2015-01-28T12:00:00Z",
        "title": lines[0],
        "paragraphs": lines[1:],
        "raw": True,
    }


def rss(base_url: str, articles: list[dict]) -> bytes:
    entries = []
    for a in articles:
        pub = format_datetime(datetime.fromisoformat(a["published"].replace("Z", "+00:00")))
        link = f"{base_url}/news/{a['slug']}.html?utm_source=rss&utm_medium=feed"
        entries.append(
            f"<item><title>{html.escape(a['title'])}</title><link>{html.escape(link)}</link>"
            f"<description>{html.escape(a['paragraphs'][0])}</description>"
            f"<pubDate>{pub}</pubDate><source url='{base_url}'>{html.escape(a['outlet'])}</source>"
            "</item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>newswatch demo wire</title><link>{base_url}/</link>"
        "<description>Sample articles for newswatch</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


class _Server:
    def __init__(self, articles: list[dict]):
        routes: dict[str, tuple[str, bytes]] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - stdlib name
                path = self.path.split("?", 1)[0]
                if path not in routes:
                    self.send_error(404)
                    return
                ctype, body = routes[path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        for a in articles:
            routes[f"/news/{a['slug']}.html"] = (
                "text/html; charset=utf-8",
                page_html(a["title"], a["outlet"], a["published"], a["paragraphs"]).encode(),
            )
        routes["/feed.xml"] = ("application/rss+xml", rss(self.base_url, articles))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def demo_articles() -> list[dict]:
    articles = yaml.safe_load((HERE / "articles.yaml").read_text(encoding="utf-8"))
    seed = seed_article()
    if seed:
        articles.insert(0, seed)
    return articles


def write_demo_config(workdir: Path, base_url: str, topics_from: Path) -> Path:
    cfg = workdir / "config"
    cfg.mkdir(parents=True)
    settings = {
        "store": {"url": f"sqlite:///{workdir / 'demo.db'}"},
        "slack": {"token_env": "NEWSWATCH_DEMO_NO_SLACK_TOKEN"},
        "network": {"allow_private_addresses": True, "respect_robots_txt": False},
    }
    (cfg / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    sources = {"sources": [{"name": "Demo wire", "url": f"{base_url}/feed.xml", "kind": "feed"}]}
    (cfg / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    if (topics_from / "topics.yaml").exists():
        shutil.copy(topics_from / "topics.yaml", cfg / "topics.yaml")
    if (topics_from / "topics").is_dir():
        shutil.copytree(topics_from / "topics", cfg / "topics")
    return cfg


def run_demo(console: Console, keep: bool = False, config_dir: Path | None = None) -> dict:
    """Serve, run one real pass, print alerts; returns the pass summary."""
    topics_from = resolve_config_dir(config_dir)
    articles = demo_articles()
    server = _Server(articles)
    workdir = Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
    try:
        cfg = write_demo_config(workdir, server.base_url, topics_from)
        console.print(
            f"[bold]newswatch demo[/]: {len(articles)} sample articles served at "
            f"{server.base_url}/feed.xml; store {workdir / 'demo.db'}\n"
        )
        summary = run_pass(load_config(cfg)).as_dict()
        console.print(
            f"\n[bold]demo pass[/]: {summary['new_articles']} new articles, "
            f"{summary['matches']} matches, {summary['alerts_queued']} alerts "
            f"(+{summary['followups_queued']} follow-ups in the same event's thread), "
            f"{summary['alerts_sent']} delivered to stdout; events: {summary['events_new']}, "
            f"articles: {summary['articles_alerted']}, outlets: {summary['outlets']}"
        )
        return summary
    finally:
        server.close()
        if keep:
            console.print(f"store kept at {workdir / 'demo.db'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
