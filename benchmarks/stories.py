"""Story clustering: title + lead vectors against whole-document vectors, by threshold.

Why: the pass clusters stories on one short text per article (title + lead, passage 0)
instead of the mean of all passage vectors; `stories.similarity` was tuned on the
latter. Ground truth that owes nothing to embeddings: two articles of a slice of
Reuters-21578 (wire copy, 1987) are the same story when their bodies share at least
`--jaccard` of their word 5-grams (re-sent, corrected and updated wire stories), and
different when they share under 0.1. For each threshold: pairs of the same story that
would join (recall) and articles that would join a different story (false merges:
their best match among different stories reaches the threshold). Also the wire-copies
fixture of tests/test_pass_e2e.py (three outlets, light rewrites).

    .venv/bin/python benchmarks/stories.py --articles 1500

Needs the shared data (skips without it). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from newswatch.embed import get_embedder  # noqa: E402
from newswatch.passages import split_passages  # noqa: E402
from newswatch.stories import document_vector  # noqa: E402

THRESHOLDS = (0.70, 0.75, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92)


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def vectors(items: list[tuple[str, str]], embedder) -> tuple[np.ndarray, np.ndarray]:
    """(document vectors: mean of passages, title + lead vectors) for (title, text) items."""
    passages = [split_passages(t, x, 12) for t, x in items]
    flat = [p for ps in passages for p in ps]
    mat = embedder.encode(flat)
    docs, leads, i = [], [], 0
    for ps in passages:
        v = mat[i : i + len(ps)]
        docs.append(document_vector(v))
        leads.append(v[0])
        i += len(ps)
    return np.stack(docs), np.stack(leads)


def report(name: str, sims: np.ndarray, same: list[tuple[int, int]], diff: np.ndarray) -> None:
    """Recall over same-story pairs and false merges per threshold, for one vector kind."""
    pair = np.array([sims[i, j] for i, j in same]) if same else np.zeros(0)
    masked = np.where(diff, sims, -1.0)
    best_wrong = masked.max(axis=1)
    cells = []
    for t in THRESHOLDS:
        rec = float((pair >= t).mean()) if len(pair) else float("nan")
        cells.append(f"{t:.2f}: R={rec:.3f} FM={int((best_wrong >= t).sum())}")
    print(f"  {name:<12} " + " | ".join(cells))
    if len(pair):
        print(
            f"  {'':<12} same-story pair similarity: min {pair.min():.3f}, "
            f"5th pct {np.percentile(pair, 5):.3f}, median {np.median(pair):.3f}"
        )


def wire_fixture(embedder) -> None:
    from test_pass_e2e import _wire_copies

    copies = _wire_copies()
    items = [(a["title"], "\n\n".join(a["paragraphs"])) for a in copies]
    docs, leads = vectors(items, embedder)
    for name, m in (("document", docs), ("title+lead", leads)):
        s = m @ m.T
        print(
            f"  wire-copies fixture, {name}: similarities 1-2 {s[0, 1]:.3f}, "
            f"1-3 {s[0, 2]:.3f}, 2-3 {s[1, 2]:.3f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1500, help="consecutive Reuters articles")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--jaccard", type=float, default=0.5, help="same story: 5-gram overlap")
    args = ap.parse_args()
    base = ROOT.parent / "shared" / "data" / "corpora" / "reuters21578.jsonl"
    embedder = get_embedder()
    print("story clustering: recall R over same-story pairs, false merges FM (articles)")
    wire_fixture(embedder)
    if not base.is_file():
        print(f"SKIP corpus: {base} not found")
        return 0
    with open(base, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    rows = [r for r in rows if len(r["text"].split()) >= 40][
        args.start : args.start + args.articles
    ]
    grams = [shingles(r["text"]) for r in rows]
    docs, leads = vectors([(r["title"], r["text"]) for r in rows], embedder)
    s_doc, s_lead = docs @ docs.T, leads @ leads.T
    np.fill_diagonal(s_doc, -1)
    np.fill_diagonal(s_lead, -1)
    # exact overlap only where either vector kind could merge; elsewhere surely different
    cand = np.argwhere(np.triu((s_doc >= 0.6) | (s_lead >= 0.6), 1))
    overlap = {(int(i), int(j)): jaccard(grams[i], grams[j]) for i, j in cand}
    same = [p for p, o in overlap.items() if o >= args.jaccard]
    diff = np.ones_like(s_doc, dtype=bool)
    np.fill_diagonal(diff, False)
    for (i, j), o in overlap.items():
        if o >= 0.1:
            diff[i, j] = diff[j, i] = False
    print(
        f"  Reuters-21578 articles {args.start}..{args.start + len(rows)} (>= 40 words): "
        f"{len(same)} same-story pairs (5-gram Jaccard >= {args.jaccard})"
    )
    report("document", s_doc, same, diff)
    report("title+lead", s_lead, same, diff)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
