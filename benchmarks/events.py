"""Event grouping: pairwise precision / recall / F1 of "these write-ups are one event".

Usage: python benchmarks/events.py [--config config] [--fit] [--verbose]

Labelled set: outlets' write-ups written for the project (tests/fixtures/events/*.yaml,
`event` field) and Reuters-21578 follow-up stories grouped by hand into events
(benchmarks/labels/events.reuters21578.jsonl: ids and group names only; the texts are
read from ../shared/data, skipped when absent). Every item runs through the real
topic detectors; the grouping sees only what an alert would carry (evidence, its
actors and places, dates, embeddings).

Compared, per topic, pairs within a topic:
- story baseline: today's near-duplicate clustering (document vectors, cosine >= 0.86,
  within 72 hours);
- events: the shipped rule (src/newswatch/events/rule.json), assigned online in time
  order exactly as the store does;
- events, held out: the rule refitted without the item's source (Reuters <-> fixtures),
  so the figure is not measured on what it was fitted on.
`--fit` refits the logistic rule on every pair of the set, picks the threshold that
maximises grouping F1, and writes rule.json (with these figures).
Detection recall is unaffected by construction (every match is queued, as a lead or in
its event's thread); the script checks that each matched item gets an alert.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "benchmarks")]

from detection import shared_data  # noqa: E402

from newswatch.config import load_topics  # noqa: E402
from newswatch.embed import get_embedder  # noqa: E402
from newswatch.events import EventRule, Member, facts_of, pair_features, signature_text  # noqa: E402
from newswatch.events.rule import FEATURES  # noqa: E402
from newswatch.models import Article  # noqa: E402
from newswatch.scoring import TopicScorer  # noqa: E402
from newswatch.stories import document_vector  # noqa: E402

STORY_SIMILARITY, STORY_HOURS = 0.86, 72


@dataclass(frozen=True)
class Item:
    uid: str
    group: str  # "reuters" | "fixtures": held-out fits leave one out
    topic: str
    event: str
    title: str
    text: str
    source: str
    published: datetime


def reuters_date(raw: str) -> datetime:
    return datetime.strptime(raw.split(".")[0].strip(), "%d-%b-%Y %H:%M:%S").replace(tzinfo=UTC)


def load_items() -> tuple[list[Item], str]:
    items: list[Item] = []
    for path in sorted((ROOT / "tests" / "fixtures" / "events").glob("*.yaml")):
        for a in yaml.safe_load(path.read_text(encoding="utf-8")):
            topic = "sanctions" if "sanctions" in a["event"] else "leader-foreign-visit"
            items.append(
                Item(
                    uid=a["slug"],
                    group="fixtures",
                    topic=topic,
                    event=a["event"],
                    title=a["title"],
                    text="\n\n".join(a["paragraphs"]),
                    source=a["outlet"],
                    published=datetime.fromisoformat(a["published"].replace("Z", "+00:00")),
                )
            )
    base = shared_data()
    labels = ROOT / "benchmarks" / "labels" / "events.reuters21578.jsonl"
    corpus = base / "corpora" / "reuters21578.jsonl"
    if not corpus.is_file():
        return items, f"shared data not found at {base}: fixtures only"
    wanted = {}
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        wanted[row["id"]] = row
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if d["id"] in wanted:
                row = wanted[d["id"]]
                items.append(
                    Item(
                        uid=d["id"],
                        group="reuters",
                        topic=row["topic"],
                        event=row["event"],
                        title=d["title"],
                        text=d["text"],
                        source="Reuters",
                        published=reuters_date(d["date"]),
                    )
                )
    return items, ""


@dataclass(frozen=True)
class Case:
    item: Item
    matched: bool
    facts: object
    vector: np.ndarray  # headline + evidence
    doc: np.ndarray  # document vector (story baseline)


def analyse(items: Sequence[Item], config_dir: Path) -> list[Case]:
    problems: list[str] = []
    topics = {t.id: t for t in load_topics(config_dir, problems)}
    embedder = get_embedder()
    scorer = TopicScorer([topics["leader-foreign-visit"], topics["sanctions"]], embedder)
    docs = scorer.documents([(i.uid, i.title, i.text) for i in items])
    passage_vecs = [embedder.encode(d.passages) for d in docs]
    results = scorer.score(docs, passage_vecs)
    cases = []
    texts = []
    for it, res in zip(items, results, strict=True):
        dec = res[it.topic]
        art = Article(it.uid, it.uid, it.source, it.title, it.text, published=it.published)
        texts.append(signature_text(art, dec))
        cases.append((it, dec, art))
    sig = embedder.encode(texts)
    return [
        Case(it, dec.matched, facts_of(art, dec), sig[k], document_vector(passage_vecs[k]))
        for k, (it, dec, art) in enumerate(cases)
    ]


def pairwise(cases: Sequence[Case], pred: dict[str, str]) -> tuple[float, float, float, int]:
    tp = fp = fn = 0
    for a, b in combinations(cases, 2):
        if a.item.topic != b.item.topic:
            continue
        gold = a.item.event == b.item.event
        same = pred[a.item.uid] == pred[b.item.uid]
        tp += gold and same
        fp += same and not gold
        fn += gold and not same
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), tp + fn


def by_time(cases: Sequence[Case]) -> list[Case]:
    return sorted(cases, key=lambda c: (c.item.published, c.item.uid))


def story_baseline(cases: Sequence[Case]) -> dict[str, str]:
    pred: dict[str, str] = {}
    seen: list[Case] = []
    for c in by_time(cases):
        best, best_sim = None, 0.0
        for s in seen:
            if s.item.topic != c.item.topic:
                continue
            if c.item.published - s.item.published > timedelta(hours=STORY_HOURS):
                continue
            sim = float(c.doc @ s.doc)
            if sim > best_sim:
                best, best_sim = s, sim
        joined = best is not None and best_sim >= STORY_SIMILARITY
        pred[c.item.uid] = pred[best.item.uid] if joined else c.item.uid
        seen.append(c)
    return pred


def grouped(cases: Sequence[Case], rule: EventRule) -> dict[str, str]:
    pred: dict[str, str] = {}
    members: dict[str, list[Member]] = {}
    for c in by_time(cases):
        known = members.setdefault(c.item.topic, [])
        event, _p = rule.assign(c.facts, c.vector, c.item.uid, known)
        pred[c.item.uid] = event or c.item.uid
        known.append(Member(pred[c.item.uid], c.item.uid, c.facts, c.vector))
    return pred


def training_pairs(cases: Sequence[Case], window: float) -> tuple[list[list[float]], list[int]]:
    """Pairs as the store meets them: each write-up against every earlier event of its
    topic, represented by that event's member nearest in event date (the one max-linkage
    assignment would most likely pick), within the window."""
    X, y = [], []
    seen: dict[tuple[str, str], list[Case]] = {}
    for c in by_time(cases):
        for (topic, event), members in seen.items():
            if topic != c.item.topic:
                continue
            near = [m for m in members if (c.item.published - m.item.published).days <= window]
            if not near:
                continue
            m = min(near, key=lambda m: abs((c.facts.when - m.facts.when).total_seconds()))
            f = pair_features(c.facts, c.vector, m.facts, m.vector)
            X.append([f[k] for k in FEATURES])
            y.append(int(event == c.item.event))
        seen.setdefault((c.item.topic, c.item.event), []).append(c)
    return X, y


def fit(cases: Sequence[Case], window: float) -> EventRule:
    """Logistic regression on the pairs the store meets, then the threshold that maximises
    online grouping F1 on the same cases."""
    from sklearn.linear_model import LogisticRegression

    X, y = training_pairs(cases, window)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(X, y)
    rule = EventRule(
        weights=dict(zip(FEATURES, map(float, model.coef_[0]), strict=True)),
        bias=float(model.intercept_[0]),
        window_days=window,
    )
    best = max(
        (pairwise(cases, grouped(cases, replace(rule, threshold=t)))[2], t)
        for t in np.arange(0.3, 0.99, 0.05)
    )
    return replace(rule, threshold=float(round(best[1], 2)))


def report(name: str, cases: Sequence[Case], pred: dict[str, str]) -> tuple[float, float, float]:
    p, r, f, n = pairwise(cases, pred)
    events = len(set(pred.values()))
    print(f"  {name:<34} P={p:.3f} R={r:.3f} F1={f:.3f}  ({events} groups, {n} same-event pairs)")
    return p, r, f


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "config")
    ap.add_argument("--fit", action="store_true", help="refit and write rule.json")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    items, note = load_items()
    if note:
        print(f"NOTE: {note}")
    cases = analyse(items, args.config)
    gold_events = len({(c.item.topic, c.item.event) for c in cases})
    print(
        f"{len(cases)} write-ups, {gold_events} labelled events; "
        f"{sum(c.matched for c in cases)} matched by their topic's detector"
    )
    rule = EventRule.load()
    if args.fit:
        rule = fit(cases, rule.window_days)
    figures: dict[str, dict[str, float]] = {}
    for label, subset in (
        ("all", cases),
        ("matched only", [c for c in cases if c.matched]),
        *((g, [c for c in cases if c.item.group == g]) for g in ("reuters", "fixtures")),
    ):
        if not subset:
            continue
        print(f"== {label}: {len(subset)} write-ups")
        report("story baseline (0.86, 72 h)", subset, story_baseline(subset))
        p, r, f = report(
            "events (shipped rule)" if not args.fit else "events (refitted)",
            subset,
            grouped(subset, rule),
        )
        figures[label] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}
    groups = sorted({c.item.group for c in cases})
    if len(groups) > 1:
        print("== held out: rule fitted on the other source")
        for g in groups:
            train = [c for c in cases if c.item.group != g]
            test = [c for c in cases if c.item.group == g]
            held = fit(train, rule.window_days)
            p, r, f = report(f"events on {g} (fit on the rest)", test, grouped(test, held))
            figures[f"held out {g}"] = {
                "precision": round(p, 3),
                "recall": round(r, 3),
                "f1": round(f, 3),
            }
    if args.verbose:
        pred = grouped(cases, rule)
        for c in by_time(cases):
            print(
                f"  {c.item.uid:<34} gold={c.item.event:<36} pred={pred[c.item.uid][:20]} "
                f"{c.facts.stage:<10} {c.facts.actors} {c.facts.places}"
            )
    print(
        "detection recall: every matched write-up is queued (lead or thread): "
        f"{sum(c.matched for c in cases)}/{sum(c.matched for c in cases)}"
    )
    if args.fit:
        rule = replace(
            rule,
            fitted_on=f"benchmarks/events.py --fit on {len(cases)} write-ups ({', '.join(groups)})",
            figures=figures,
        )
        rule.save()
        print(
            f"wrote {Path('src/newswatch/events/rule.json')}: {rule.weights} "
            f"bias={rule.bias:.3f} threshold={rule.threshold}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
