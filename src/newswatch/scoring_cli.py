"""Batch scoring of JSONL articles, shared by `score`, `eval` and benchmarks.

`matched` is exactly the alert decision of `newswatch run`: the same TopicScorer,
thresholds, guards and detectors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from newswatch.models import Decision
from newswatch.runtime import scorer_for
from newswatch.schema import Config


def decision_json(d: Decision) -> dict:
    out = {
        "score": round(float(d.score), 4),
        "matched": bool(d.matched),
        "evidence": d.evidence.text,
    }
    if d.guard:
        out["guard"] = d.guard
    if d.model_version:
        out["model_version"] = d.model_version
    return out


def score_batches(
    config: Config, rows: Sequence[dict], batch_size: int = 256, console: Console | None = None
) -> Iterator[tuple[dict, dict[str, Decision]]]:
    """(row, decisions) for every row, batched, with a progress bar on the console."""
    scorer = scorer_for(config)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
        disable=console is None,
    ) as progress:
        task = progress.add_task("scoring", total=len(rows))
        for i in range(0, len(rows), batch_size):
            chunk = rows[i : i + batch_size]
            docs = scorer.documents(
                [(str(r["id"]), r.get("title") or "", r.get("text") or "") for r in chunk]
            )
            yield from zip(chunk, scorer.score(docs), strict=True)
            progress.advance(task, len(chunk))


def score_rows(
    config: Config, rows: Sequence[dict], batch_size: int = 256, console: Console | None = None
) -> Iterator[dict]:
    for row, decisions in score_batches(config, rows, batch_size, console):
        result = {k: v for k, v in row.items() if k not in ("title", "text")}
        result["topics"] = {tid: decision_json(d) for tid, d in decisions.items()}
        yield result
