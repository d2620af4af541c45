"""`newswatch label --input ARTICLES --labels LABELS` and `newswatch labels --export`.

The formats are those of `score` and `eval`: ARTICLES lines `{id, title, text, ...}`,
LABELS lines `{"id": ..., "<topic id>": 0|1|2, ...}`. A line labels only the topics
it names; 2 (borderline) is accepted and not stored. Every line is checked before
anything is stored, so a file with a mistake stores nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from newswatch.clock import utcnow
from newswatch.models import Label
from newswatch.store import Store

BORDERLINE = 2


class LabelFileError(Exception):
    """A bad line in an ARTICLES or LABELS file; str() is `file:line: what`."""


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) of every non-blank line; each must be an object with an 'id'."""
    rows = []
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise LabelFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelFileError(f"{path}:{n}: not valid JSON: {exc.msg}") from None
            if not isinstance(obj, dict) or "id" not in obj:
                raise LabelFileError(f"{path}:{n}: each line needs an object with an 'id'")
            rows.append((n, obj))
    return rows


def read_labels(
    articles_path: Path,
    labels_path: Path,
    topic_ids: Sequence[str],
    who: str,
    at: datetime | None = None,
) -> tuple[list[tuple[Label, str, str]], int]:
    """The (label, title, text) triples of a LABELS file, and how many borderline were skipped."""
    at = at or utcnow()
    articles: dict[str, dict] = {}
    for n, row in read_jsonl(articles_path):
        key = str(row["id"])
        if key in articles:
            raise LabelFileError(f"{articles_path}:{n}: id {key!r} appears twice")
        articles[key] = row
    known = set(topic_ids)
    out: list[tuple[Label, str, str]] = []
    borderline = 0
    for n, row in read_jsonl(labels_path):
        key = str(row["id"])
        article = articles.get(key)
        if article is None:
            raise LabelFileError(f"{labels_path}:{n}: id {key!r} is not in {articles_path}")
        for topic, value in row.items():
            if topic == "id":
                continue
            if topic not in known:
                raise LabelFileError(
                    f"{labels_path}:{n}: unknown topic {topic!r} "
                    f"(the config has: {', '.join(sorted(known)) or 'none'})"
                )
            if isinstance(value, bool) or value not in (0, 1, BORDERLINE):
                raise LabelFileError(
                    f"{labels_path}:{n}: topic {topic!r}: label must be 0, 1 or 2, not {value!r}"
                )
            if value == BORDERLINE:
                borderline += 1
                continue
            title = str(article.get("title") or "")
            text = str(article.get("text") or "")
            out.append((Label(topic, key, int(value), "file", who, at), title, text))
    return out, borderline


def export_labels(store: Store, path: Path, topic_id: str | None = None) -> tuple[int, Path]:
    """Write the resolved labels (one per topic and article, as training sees them).

    LABELS go to `path`, the texts they judge to `<stem>.articles.jsonl` beside it:
    `newswatch label --input that --labels path` re-imports them, and `eval` reads both.
    Returns (lines written, articles path).
    """
    rows = store.training_labels(topic_id)
    by_key: dict[str, dict] = defaultdict(dict)
    texts: dict[str, tuple[str, str]] = {}
    for r in rows:
        by_key[r.article_key][r.topic_id] = r.value
        texts.setdefault(r.article_key, (r.title, r.text))
    articles_path = path.with_name(path.stem + ".articles.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as lab, articles_path.open("w", encoding="utf-8") as art:
        for key, topics in by_key.items():
            lab.write(json.dumps({"id": key, **topics}, ensure_ascii=False) + "\n")
            title, text = texts[key]
            art.write(json.dumps({"id": key, "title": title, "text": text}, ensure_ascii=False))
            art.write("\n")
    return len(by_key), articles_path
