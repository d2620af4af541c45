"""Detection quality on the labelled corpora, beside a Google-Alerts-style keyword query.

Usage: python benchmarks/detection.py [--config config] [--corpus reuters21578 ...]
Scores the FULL corpora through `TopicScorer` exactly as the pipeline does
(documents no detector's gate wants are not embedded). Labels: 1 positive,
2 borderline (left out of scoring), 0/unlisted negative (mass-unrest: only what was
read for it, see benchmarks/labels/README.md). --cross adds the cross-corpus figures.
Shared data: ../shared/data next to the repo, or $NEWSWATCH_SHARED_DATA.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from newswatch.config import load_topics  # noqa: E402
from newswatch.embed import get_embedder  # noqa: E402
from newswatch.scoring import TopicScorer  # noqa: E402

CORPORA = ("reuters21578", "bbc_fulltext")
TOPICS = ("leader-foreign-visit", "sanctions", "mass-unrest")
# judged only by benchmarks/labels (never by the shared annotators): unread = unknown
READ_ONLY = {"mass-unrest"}
_LEADER = r"\b(president|prime minister|premier|chancellor|king|queen|pope)\b"
_TRAVEL = r"\b(visit\w*|trip|summit)\b"
# Google-Alerts-style queries an analyst would type (any match in title or text).
KEYWORD_QUERIES: dict[str, tuple[str, Callable[[str], bool]]] = {
    "leader-foreign-visit": (
        '(president OR "prime minister" OR premier OR chancellor OR king OR queen OR pope) '
        "AND (visit* OR trip OR summit)",
        lambda t: bool(re.search(_LEADER, t, re.I) and re.search(_TRAVEL, t, re.I)),
    ),
    "sanctions": (
        "sanction* OR embargo*",
        lambda t: bool(re.search(r"\b(sanction\w*|embargo\w*)", t, re.I)),
    ),
    "mass-unrest": (
        "protest* OR riot* OR unrest OR demonstrat*",
        lambda t: bool(re.search(r"\b(protest\w*|riot\w*|unrest|demonstrat\w*)", t, re.I)),
    ),
}


def shared_data() -> Path:
    env = os.environ.get("NEWSWATCH_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def load_corpus(base: Path, name: str) -> tuple[list[dict], dict[str, dict]]:
    corpora = base / "corpora"
    with open(corpora / f"{name}.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    labels: dict[str, dict] = {}  # the shared labels, extended by benchmarks/labels
    for d in (corpora / "labels", ROOT / "benchmarks" / "labels"):
        with open(d / f"{name}.labels.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                labels.setdefault(row["id"], {}).update(row)
    return docs, labels


def prf(pred: set[str], gold: set[str]) -> tuple[float, float, float]:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def line(corpus: str, topic: str, method: str, pred: set[str], gold: set[str]) -> str:
    p, r, f = prf(pred, gold)
    tp = len(pred & gold)
    return (
        f"{corpus:<13} {topic:<21} {method:<34} P={p:.3f} R={r:.3f} F1={f:.3f} "
        f"(tp={tp} fp={len(pred) - tp} fn={len(gold) - tp})"
    )


def run(
    config_dir: Path,
    corpora: list[str],
    verbose: bool = False,
    dump: str | None = None,
    backend: str = "torch",
) -> int:
    base = shared_data()
    if not (base / "corpora").is_dir():
        print(f"SKIP: shared data not found at {base} (set NEWSWATCH_SHARED_DATA)")
        return 0
    problems: list[str] = []
    topics = [t for t in load_topics(config_dir, problems) if t.id in TOPICS]
    if problems:
        print("\n".join(problems))
        return 1
    t0 = time.perf_counter()
    scorer = TopicScorer(topics, get_embedder(backend=backend))
    print(f"model ({backend}) + detectors loaded in {time.perf_counter() - t0:.1f}s")
    decisions: list[dict] = []
    for name in corpora:
        docs, labels = load_corpus(base, name)
        t0 = time.perf_counter()
        documents = scorer.documents([(d["id"], d["title"], d["text"]) for d in docs])
        results = scorer.score(documents)
        dt = time.perf_counter() - t0
        embedded = sum(scorer.wanted(d) for d in documents)
        print(
            f"\n== {name}: {len(docs)} articles (full corpus), {embedded} needed passage vectors "
            f"(hybrid embeds only its gated sentences), "
            f"{dt:.1f}s = {len(docs) / dt:.0f} articles/s"
        )
        for topic in topics:
            tid = topic.id
            gold = {i for i, r in labels.items() if r.get(tid) == 1}
            skip = {i for i, r in labels.items() if r.get(tid) == 2}
            if tid in READ_ONLY:  # score only what was read for this topic
                skip |= {d["id"] for d in docs if tid not in labels.get(d["id"], {})}
            pred = {
                d.id for d, res in zip(documents, results, strict=True) if res[tid].matched
            } - skip
            decisions += [
                {"corpus": name, "id": d.id, "topic": tid, "matched": r[tid].matched,
                 "score": round(r[tid].score, 4)}
                for d, r in zip(documents, results, strict=True)
            ]  # fmt: skip
            query, match = KEYWORD_QUERIES[tid]
            kw = {d["id"] for d in docs if match(f"{d['title']}\n{d['text']}")} - skip
            print(
                line(
                    name,
                    tid,
                    f"newswatch {'+'.join(topic.detectors)} thr={topic.threshold}",
                    pred,
                    gold,
                )
            )
            print(line(name, tid, "keyword query", kw, gold) + f"  query: {query}")
            if verbose:
                by_id = {d.id: (d, r[tid]) for d, r in zip(documents, results, strict=True)}
                for i in sorted((pred - gold) | (gold - pred)):
                    d, dec = by_id[i]
                    tag = "FP" if i in pred else "FN"
                    print(f"   {tag} {i} {dec.score:.2f} {d.title[:60]!r} | {dec.guard[:60]}")
    if dump:  # every decision, to diff two runs (backends, before/after a change)
        Path(dump).write_text("".join(json.dumps(d) + "\n" for d in decisions), encoding="utf-8")
        print(f"\n{len(decisions)} decisions written to {dump}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "config"))
    ap.add_argument("--corpus", nargs="*", default=list(CORPORA))
    ap.add_argument("-v", "--verbose", action="store_true", help="list false positives/negatives")
    ap.add_argument(
        "--cross",
        action="store_true",
        help="also cross-corpus figures and learning curves of `newswatch train` "
        "(benchmarks/cross_corpus.py)",
    )
    ap.add_argument("--dump", help="write every (corpus, id, topic) decision as JSON lines")
    ap.add_argument("--backend", default="torch", choices=("torch", "onnx"))
    args = ap.parse_args()
    code = run(Path(args.config), args.corpus, args.verbose, args.dump, args.backend)
    if args.cross:
        from cross_corpus import run as cross

        code = code or cross(Path(args.config), list(TOPICS))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
