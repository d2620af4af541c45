"""Cross-corpus figures and learning curves for the `learned` kind (see detection.py).

Usage: python benchmarks/cross_corpus.py [--config config] [--topics ...]
For each topic and each direction (train on Reuters, measure on BBC; and back):
- hand-set: the untrained decision (the hybrid formula at the topic's threshold);
- learned: the combiner trained on the other corpus' labels (threshold by its CV),
  measured on this corpus; same-corpus: its 5-fold CV on this corpus;
- a learning curve: F1 here after training on 0, 50, 100, 200 and all labels of the
  other corpus (0 = untrained). Labelled = the lines of the label files; leader
  visits and sanctions also count every unlisted article of the corpus as a
  negative (the shared labels' convention); mass-unrest only what was read for it.
Labels: shared (../shared/data/corpora/labels) merged with benchmarks/labels.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from detection import CORPORA, shared_data  # noqa: E402

from newswatch.config import load_topics  # noqa: E402
from newswatch.detectors.learned import LearnedDetector  # noqa: E402
from newswatch.embed import get_embedder  # noqa: E402
from newswatch.training import (  # noqa: E402
    FoldEnsemble,
    Labelled,
    _matrix,
    choose_threshold,
    fit_decider,
    oof_scores,
    prf,
    signals_of,
)

TOPICS = ("leader-foreign-visit", "sanctions", "mass-unrest")
READ_ONLY = {"mass-unrest"}  # never judged by the shared annotators: unlisted = unknown
CURVE = (0, 50, 100, 200, None)


def merged_labels(base: Path, corpus: str) -> tuple[dict[str, dict], dict[str, set[str]]]:
    rows: dict[str, dict] = {}
    read: dict[str, set[str]] = {}
    for d in (base / "corpora" / "labels", ROOT / "benchmarks" / "labels"):
        with open(d / f"{corpus}.labels.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                rows.setdefault(r["id"], {}).update(r)
        ids = json.loads((d / f"{corpus}.read_ids.json").read_text(encoding="utf-8"))
        for t in TOPICS:
            read.setdefault(t, set()).update(ids.get(t, []) if isinstance(ids, dict) else ids)
    return rows, read


def dataset(base: Path, corpus: str, topic: str) -> tuple[list[Labelled], set[str]]:
    """The labelled articles of `topic` on `corpus`, and the ids listed in a label file."""
    labels, read = merged_labels(base, corpus)
    out, listed = [], set()
    with open(base / "corpora" / f"{corpus}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            y = labels.get(d["id"], {}).get(topic)
            if y is None and (topic in READ_ONLY):
                continue
            if y == 2:
                continue
            if y is not None:
                listed.add(d["id"])
            out.append(Labelled(d["id"], d["title"], d["text"], int(y or 0)))
    return out, listed


def fit(x, has, y, target: float, combiner_only: bool = False):
    """What `newswatch train` saves from these labels: (combiner or None, threshold);
    `combiner_only` keeps the combiner even where the hand formula measured better."""
    k = min(5, int((y == 1).sum()), int((y == 0).sum()))
    if k < 2:
        return "untrained", 1.0
    if combiner_only:
        models: list = []
        oof, _ = oof_scores(x, has, y, k, models=models)
        return FoldEnsemble(models), choose_threshold(y, oof, target)[0]
    fitted = fit_decider(x, has, y, k, target)
    return fitted.combiner, fitted.threshold


def apply(model, t, x, has, hand_t: float) -> np.ndarray:
    if isinstance(model, str):  # too few labels to train: the untrained decision
        return has & (x[:, 0] >= hand_t)
    scores = x[:, 0] if model is None else model.predict_proba(x)[:, 1]
    return has & (scores >= t)


def fmt(p: float, r: float, f: float) -> str:
    return f"P={p:.3f} R={r:.3f} F1={f:.3f}"


def run(config_dir: Path, topics: list[str], cache: Path | None = None, seeds: int = 3) -> int:
    base = shared_data()
    if not (base / "corpora").is_dir():
        print(f"SKIP: shared data not found at {base}")
        return 0
    problems: list[str] = []
    by_id = {t.id: t for t in load_topics(config_dir, problems)}
    emb = get_embedder()
    for tid in topics:
        topic = replace(by_id[tid], models_dir="")
        det = LearnedDetector(topic, emb, use_model=False)
        data = {}
        for c in CORPORA:
            docs, listed = dataset(base, c, tid)
            saved = cache / f"{tid}.{c}.joblib" if cache else None
            if saved and saved.exists():
                x, has = joblib.load(saved)
            else:
                x, has = _matrix(signals_of(det, docs))
                if saved:
                    cache.mkdir(parents=True, exist_ok=True)
                    joblib.dump((x, has), saved)
            y = np.array([d.y for d in docs])
            data[c] = (docs, listed, x, has, y)
            print(f"{tid} {c}: {len(docs)} articles, {int(y.sum())} positive, {len(listed)} listed")
        for src, dst in (CORPORA, CORPORA[::-1]):
            _, listed, xs, hs, ys = data[src]
            docs_d, _, xd, hd, yd = data[dst]
            hand = prf(yd, hd & (xd[:, 0] >= topic.threshold))
            print(f"  {dst:<13} hand-set thr={topic.threshold}: {fmt(*hand)}")
            k = min(5, int(yd.sum()), int((yd == 0).sum()))
            if k >= 2:
                oof, _ = oof_scores(xd, hd, yd, k)
                t, _ = choose_threshold(yd, oof, topic.target_precision)
                print(f"  {dst:<13} learned, same-corpus {k}-fold CV: {fmt(*prf(yd, oof >= t))}")
            for only in (True, False):
                model, t = fit(xs, hs, ys, topic.target_precision, combiner_only=only)
                what = "combiner" if only else "as `train` saves it"
                what += "" if only else (" (hand formula)" if model is None else " (combiner)")
                print(
                    f"  {dst:<13} trained on {src}, {what}, thr {t:.2f}: "
                    f"{fmt(*prf(yd, apply(model, t, xd, hd, topic.threshold)))}"
                )
            ids = [i for i, d in enumerate(data[src][0]) if d.id in listed]
            for n in CURVE:
                if n == 0:
                    print(f"  {dst:<13} curve n=0 (untrained): F1={hand[2]:.3f}")
                    continue
                fs = []
                for seed in range(seeds if n else 1):
                    rng = np.random.default_rng(seed)
                    pick = np.array(ids if n is None else rng.choice(ids, min(n, len(ids)), False))
                    m, t = fit(xs[pick], hs[pick], ys[pick], topic.target_precision)
                    fs.append(prf(yd, apply(m, t, xd, hd, topic.threshold))[2])
                label = "all" if n is None else str(n)
                print(
                    f"  {dst:<13} curve n={label} labels of {src}: F1={np.mean(fs):.3f} "
                    f"(± {np.std(fs):.3f} over {len(fs)} draws)"
                )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "config"))
    ap.add_argument("--topics", nargs="*", default=list(TOPICS))
    ap.add_argument("--cache", type=Path, help="Keep each corpus' signals here (reruns: seconds).")
    args = ap.parse_args()
    return run(Path(args.config), args.topics, args.cache)


if __name__ == "__main__":
    raise SystemExit(main())
