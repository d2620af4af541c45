"""`newswatch backtest`: what the current topic files would alert on, against what did."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from newswatch.clock import since_to_datetime
from newswatch.runtime import scorer_for
from newswatch.schema import Config
from newswatch.store import Store


def backtest(config: Config, since: str) -> tuple[list[tuple], int]:
    """Rows (topic, url, title, score, would_alert, did_alert, change) and articles re-scored."""
    store = Store(config.settings.store.url)
    try:
        start = since_to_datetime(since)
        stored = list(store.iter_articles(start))
        alerted = {(r.topic_id, r.article_url) for r in store.alerts_for()}
    finally:
        store.close()
    scorer = scorer_for(config)
    docs = scorer.documents(
        [(s.article.canonical_url, s.article.title, s.article.text) for s in stored]
    )
    rows: list[tuple] = []
    for s, decisions in zip(stored, scorer.score(docs) if docs else [], strict=True):
        url = s.article.canonical_url
        for tid, d in decisions.items():
            did = (tid, url) in alerted
            if not (d.matched or did):
                continue
            change = "" if d.matched == did else ("new" if d.matched else "dropped")
            rows.append((tid, url, s.article.title, d.score, d.matched, did, change))
    return rows, len(stored)


def run_backtest(config: Config, since: str, console: Console) -> None:
    rows, n = backtest(config, since)
    table = Table(title=f"backtest over {n} stored article(s) since {since}")
    for col in ("topic", "title", "score", "would alert", "did alert", "change"):
        table.add_column(col)
    for tid, url, title, score, would, did, change in rows:
        table.add_row(
            tid,
            f"[link={url}]{title[:70]}[/link]",
            f"{score:.3f}",
            "yes" if would else "no",
            "yes" if did else "no",
            f"[bold]{change}[/]" if change else "",
        )
    console.print(table)
    new = sum(1 for r in rows if r[6] == "new")
    dropped = sum(1 for r in rows if r[6] == "dropped")
    would = sum(1 for r in rows if r[4])
    console.print(f"would alert: {would}; new vs what alerted: {new}; dropped: {dropped}")
