"""`newswatch explain`: why a page does or does not match each topic."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from newswatch.models import FeedItem
from newswatch.runtime import scorer_for
from newswatch.schema import Config


def load_for_explain(
    config: Config, *, url: str | None = None, file: Path | None = None, text: str | None = None
) -> tuple[str, str]:
    """(title, text) from a URL (fetched like a pass would), a saved page, or raw text."""
    if text is not None:
        first, _, rest = text.partition("\n")
        return (first, rest) if rest.strip() else ("", text)
    from newswatch.extract import extract_article

    if file is not None:
        html = file.read_text(encoding="utf-8", errors="replace")
        article = extract_article(FeedItem(url=file.resolve().as_uri(), source="file"), html, None)
        return article.title, article.text
    from newswatch.http import Fetcher

    fetcher = Fetcher(config.settings.network)
    try:
        res = fetcher.get(url, trusted=True)
    finally:
        fetcher.close()
    article = extract_article(FeedItem(url=url, source="url"), res.text, res.url)
    return article.title, article.text


def explain_article(config: Config, title: str, text: str, console: Console) -> None:
    scorer = scorer_for(config)
    [doc] = scorer.documents([("explain", title, text)])
    [decisions] = scorer.score([doc])
    console.print(f"[bold]{title or '(no title)'}[/] — {len(doc.passages)} passage(s)")
    for topic in config.topics:
        d = decisions[topic.id]
        verdict = "[green]MATCH[/]" if d.matched else "[dim]no match[/]"
        threshold = scorer.detectors[topic.id][0].threshold
        lines = [f"score {d.score:.3f} (threshold {threshold:.2f}) via {d.detector or '-'}"]
        if d.model_version:
            lines.append(f"model: {d.model_version} (newswatch train)")
        if d.guard:
            lines.append(f"guard: {d.guard}")
        ev = d.evidence
        if ev.text:
            lines.append(f"passage: {ev.text}")
        if ev.judged and ev.judged != ev.text:
            lines.append(f"read as: {ev.judged}")
        if ev.agents:
            lines.append("who does it: " + "; ".join(ev.agents))
        if ev.why:
            centrality = f"centrality {ev.centrality:.2f}: " if ev.centrality is not None else ""
            lines.append(centrality + ev.why)
        if ev.highlights:
            lines.append("key words: " + ", ".join(ev.highlights))
        if d.example:
            lines.append(f"closest example: {d.example}")
        if len(d.scores) > 1:
            lines.append("per detector: " + ", ".join(f"{k} {v:.3f}" for k, v in d.scores))
        console.print(
            Panel("\n".join(lines), title=f"{topic.id}: {verdict}", expand=False), highlight=False
        )
