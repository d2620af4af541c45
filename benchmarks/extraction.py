"""Extraction quality: our extract_article vs trafilatura's defaults on the scrapinghub pages.

Token-level F1 (lower-cased \\w+ tokens, multiset overlap) of each extractor's text
against the ground-truth articleBody, averaged over pages; plus pages/second.

    .venv/bin/python benchmarks/extraction.py [--limit N]

Data: $NEWSWATCH_SHARED_DATA or ../shared/data beside the repo (pages/scrapinghub).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

from newswatch.extract import extract_article
from newswatch.http import decode_text
from newswatch.models import FeedItem

_TOKEN = re.compile(r"\w+")


def shared_data() -> Path:
    env = os.environ.get("NEWSWATCH_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def token_prf(predicted: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of predicted tokens against the truth's (bag of words)."""
    pred = Counter(_TOKEN.findall(predicted.lower()))
    gold = Counter(_TOKEN.findall(truth.lower()))
    common = sum((pred & gold).values())
    if not common:
        return 0.0, 0.0, 0.0
    p = common / sum(pred.values())
    r = common / sum(gold.values())
    return p, r, 2 * p * r / (p + r)


def load_pages(root: Path, limit: int | None) -> list[tuple[str, str, str]]:
    """(url, html, ground-truth body) for each page; HTML decoded as the fetcher would."""
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, record in sorted(truth.items())[:limit]:
        raw = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((record.get("url") or "", decode_text(raw, None), record["articleBody"]))
    return pages


def ours(url: str, html: str) -> str:
    item = FeedItem(url=url or "https://example.com/", source="bench")
    return extract_article(item, html, url or None, min_text_chars=0).text


def trafilatura_default(_url: str, html: str) -> str:
    return trafilatura.extract(html) or ""


def score(name: str, fn: Callable[[str, str], str], pages: list[tuple[str, str, str]]) -> None:
    start = time.perf_counter()
    totals = [0.0, 0.0, 0.0]
    for url, html, body in pages:
        for i, value in enumerate(token_prf(fn(url, html), body)):
            totals[i] += value
    elapsed = time.perf_counter() - start
    n = len(pages)
    p, r, f = (t / n for t in totals)
    print(
        f"{name:<22} pages={n}  F1={f:.4f}  precision={p:.4f}  recall={r:.4f}  "
        f"{n / elapsed:.1f} pages/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    args = parser.parse_args()
    root = shared_data() / "pages" / "scrapinghub"
    if not (root / "ground-truth.json").exists():
        print(f"skipped: no benchmark data at {root}", file=sys.stderr)
        return 0
    pages = load_pages(root, args.limit)
    score("newswatch", ours, pages)
    score("trafilatura-default", trafilatura_default, pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
