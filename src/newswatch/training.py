"""`newswatch train`: fit each `learned` topic's combiner on labels, threshold by cross-validation.

Why cross-validation: the threshold and the reported precision/recall must come
from labels the combiner did not see, or they flatter it (the hand-set rules
scored 0.92 on the stories they were tuned on and 0.57 on other news).

Labelled articles get their signals from the topic's detector once (one encode of
their candidate sentences); folds then refit only the small logistic combiner, so
thousands of labels train in seconds after that encode. An article with no
candidate sentence scores 0 in every fold (the gate is part of the model).
Without labels, folds over the topic's own examples and counter-examples (the
few-shot model refit without the held-out ones) calibrate the threshold of the
untrained hybrid formula: a measured threshold, never a bare constant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from newswatch.detectors.base import Document
from newswatch.detectors.learned import (
    FEATURES,
    FoldEnsemble,
    LearnedDetector,
    TrainedModel,
    save_model,
)
from newswatch.embed import Embedder
from newswatch.models import LabelledText
from newswatch.passages import split_passages
from newswatch.schema import Topic

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CHUNK = 128
MARGIN = 0.02  # F1 the combiner must gain over the re-thresholded hand formula


@dataclass(frozen=True)
class Labelled:
    id: str
    title: str
    text: str
    y: int


@dataclass
class TrainReport:
    topic_id: str
    version: str
    threshold: float
    n_pos: int
    n_neg: int
    source: str  # "labels" or "examples"
    cv: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (mean, std)
    pooled: dict[str, float] = field(default_factory=dict)
    before: dict[str, float] = field(default_factory=dict)  # the untrained decision, same labels
    warning: str = ""
    curve: list[tuple[int, float]] = field(default_factory=list)  # (labels used, CV F1)
    pr: tuple[list[float], list[float]] = ([], [])
    path: str = ""
    model: TrainedModel | None = None
    decider: str = ""  # what decides: the combiner, or the hand formula re-thresholded


def labelled_from_files(
    topic_id: str, rows: Sequence[dict], label_rows: Sequence[dict]
) -> list[Labelled]:
    """As `newswatch eval` reads them: 1 positive, 2 borderline (left out), 0 or unlisted 0."""
    labels = {str(r["id"]): r for r in label_rows}
    out = []
    for r in rows:
        y = int(labels.get(str(r["id"]), {}).get(topic_id, 0) or 0)
        if y in (0, 1):
            out.append(Labelled(str(r["id"]), r.get("title") or "", r.get("text") or "", y))
    return out


def labelled_from_store(topic_id: str, stored: Sequence[LabelledText]) -> list[Labelled]:
    return [
        Labelled(s.article_key, s.title, s.text, int(s.value))
        for s in stored
        if s.topic_id == topic_id and s.value in (0, 1)
    ]


def prf(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    tp = float((pred & (y == 1)).sum())
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / (y == 1).sum() if (y == 1).sum() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def choose_threshold(y: np.ndarray, scores: np.ndarray, target: float) -> tuple[float, str]:
    """Highest F1 among thresholds with precision >= target; else the most precise one."""
    cands = sorted({float(s) for s, t in zip(scores, y, strict=True) if t == 1 and s > 0})
    if not cands:
        return 1.0, "no positive passes the gate: nothing can alert"
    best: tuple[float, float] | None = None  # (f1, threshold)
    fallback: tuple[float, float, float] = (-1.0, -1.0, 1.0)  # (precision, f1, threshold)
    for t in cands:
        p, _, f = prf(y, scores >= t)
        if p >= target and (best is None or f > best[0]):
            best = (f, t)
        if (p, f) > fallback[:2]:
            fallback = (p, f, t)
    t, warning = (best[1], "") if best is not None else (fallback[2], "")
    if best is None:
        warning = f"no threshold reaches precision {target:.2f} (best {fallback[0]:.2f})"
    # halfway down to the next lower score: the same out-of-fold decisions with a margin,
    # since the model refit on every label scores a little differently than its folds
    below = scores[scores < t]
    return (t + float(below.max())) / 2 if below.size else t, warning


def _combiner(c: float = 1.0):
    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    )


def _matrix(signals: Sequence[dict[str, float] | None]) -> tuple[np.ndarray, np.ndarray]:
    has = np.array([s is not None for s in signals], dtype=bool)
    x = np.array(
        [[s.get(f, 0.0) for f in FEATURES] if s else [0.0] * len(FEATURES) for s in signals]
    )
    return x, has


def oof_scores(
    x: np.ndarray,
    has: np.ndarray,
    y: np.ndarray,
    folds: int,
    seed: int = 0,
    frac: float = 1.0,
    models: list | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Out-of-fold combiner scores (0 for gated-out articles) and each fold's test indices;
    the fold models are appended to `models` when given.
    `frac` < 1 fits each fold on that share of its training labels (the learning curve)."""
    scores = np.zeros(len(y))
    splits = []
    rng = np.random.default_rng(seed)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        if frac < 1:
            train = rng.choice(train, max(2, int(len(train) * frac)), replace=False)
        train = train[has[train]]
        ys = y[train]
        if len(set(ys)) < 2:
            scores[test] = np.where(has[test], 0.5 if ys.size and ys[0] == 1 else 0.0, 0.0)
        else:
            model = _combiner().fit(x[train], ys)
            scores[test] = np.where(has[test], model.predict_proba(x[test])[:, 1], 0.0)
            if models is not None:
                models.append(model)
        splits.append(test)
    return scores, splits


def signals_of(
    det: LearnedDetector, docs: Sequence[Labelled], progress: Progress | None = None
) -> list[dict[str, float] | None]:
    out: list[dict[str, float] | None] = []
    for i in range(0, len(docs), CHUNK):
        chunk = docs[i : i + CHUNK]
        out += det.signals(
            [Document(d.id, d.title, d.text, split_passages(d.title, d.text, 12)) for d in chunk]
        )
        if progress:
            progress("reading labelled articles", min(i + CHUNK, len(docs)), len(docs))
    return out


def _cv_report(y, scores, splits, threshold) -> dict[str, tuple[float, float]]:
    per = np.array([prf(y[t], scores[t] >= threshold) for t in splits])
    return {m: (float(per[:, j].mean()), float(per[:, j].std())) for j, m in enumerate("PRF")}


def _pr_curve(y: np.ndarray, scores: np.ndarray) -> tuple[list[float], list[float]]:
    order = np.argsort(-scores)
    tp = np.cumsum(y[order] == 1)
    prec = tp / np.arange(1, len(y) + 1)
    rec = tp / max(1, int((y == 1).sum()))
    return rec.tolist(), prec.tolist()


def _version() -> str:
    return time.strftime("v%Y%m%d-%H%M%S", time.gmtime())


def train_topic(
    topic: Topic,
    embedder: Embedder,
    docs: Sequence[Labelled],
    progress: Progress | None = None,
    folds: int = 5,
    save: bool = True,
) -> TrainReport:
    """Fit `topic` from `docs` (or, with no usable labels, from its examples) and save it."""
    y = np.array([d.y for d in docs], dtype=int)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    k = min(folds, n_pos, n_neg)
    if k < 2:
        report = _from_examples(topic, embedder, folds)
    else:
        report = _from_labels(topic, embedder, docs, y, k, progress)
    report.n_pos, report.n_neg = (n_pos, n_neg) if report.source == "labels" else (0, 0)
    if save and topic.models_dir:
        card = {
            "topic": topic.id,
            "version": report.version,
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": report.source,
            "labels": {"positive": report.n_pos, "negative": report.n_neg},
            "threshold": report.threshold,
            "target_precision": topic.target_precision,
            "cv": {m: {"mean": a, "std": b} for m, (a, b) in report.cv.items()},
            "before_training": report.before,
            "warning": report.warning,
            "decider": report.decider,
            "features": list(FEATURES),
        }
        report.path = str(save_model(topic.models_dir, topic.id, report.model, card))
    return report


@dataclass
class Fitted:
    combiner: FoldEnsemble | None  # None: the hand formula decides, at `threshold`
    threshold: float
    scores: np.ndarray  # out-of-fold scores of what decides (the hand formula's own)
    splits: list[np.ndarray]
    decider: str
    warning: str


def fit_decider(x: np.ndarray, has: np.ndarray, y: np.ndarray, k: int, target: float) -> Fitted:
    """The combiner, kept only where its out-of-fold F1 beats the hand formula with a
    threshold fitted on the same labels by more than noise (MARGIN); with few labels it
    usually does not, and the topic keeps the formula with a measured threshold."""
    fold_models: list = []
    oof, splits = oof_scores(x, has, y, k, models=fold_models)
    t, warning = choose_threshold(y, oof, target)
    comb_f = prf(y, oof >= t)[2]
    hand = np.where(has, x[:, 0], 0.0)
    hand_t, hand_warning = choose_threshold(y, hand, target)
    hand_f = prf(y, hand >= hand_t)[2]
    figures = f"(CV F1 combiner {comb_f:.3f}, hand formula {hand_f:.3f})"
    if fold_models and comb_f >= hand_f + MARGIN:
        return Fitted(FoldEnsemble(fold_models), t, oof, splits, f"combiner {figures}", warning)
    return Fitted(None, hand_t, hand, splits, f"hand formula {figures}", hand_warning)


def _from_labels(topic, embedder, docs, y, k, progress) -> TrainReport:
    det = LearnedDetector(topic, embedder, use_model=False)
    x, has = _matrix(signals_of(det, docs, progress))
    fitted = fit_decider(x, has, y, k, topic.target_precision)
    scores, threshold = fitted.scores, fitted.threshold
    p, r, f = prf(y, scores >= threshold)
    bp, br, bf = prf(y, has & (x[:, 0] >= topic.threshold))
    curve = []
    for frac in (0.25, 0.5, 0.75, 1.0):
        s, _ = oof_scores(x, has, y, k, frac=frac)
        t, _ = choose_threshold(y, s, topic.target_precision)
        curve.append((int(len(y) * (k - 1) / k * frac), prf(y, s >= t)[2]))
        if progress:
            progress("learning curve", int(frac * 4), 4)
    model = TrainedModel(_version(), threshold, fitted.combiner)
    report = TrainReport(topic.id, model.version, threshold, 0, 0, "labels", warning=fitted.warning)
    report.decider = fitted.decider
    report.cv = _cv_report(y, scores, fitted.splits, threshold)
    report.pooled = {"precision": p, "recall": r, "f1": f}
    report.before = {"precision": bp, "recall": br, "f1": bf, "threshold": topic.threshold}
    report.curve, report.pr = curve, _pr_curve(y, scores)
    report.model = model
    return report


def _from_examples(topic: Topic, embedder: Embedder, folds: int) -> TrainReport:
    """Out-of-fold hybrid scores of the topic's own examples vs counter-examples."""
    ex, ce = list(topic.examples), list(topic.counter_examples)
    sents = ex + ce
    y = np.array([1] * len(ex) + [0] * len(ce))
    k = min(folds, len(ex), len(ce))
    scores = np.zeros(len(y))
    splits = []
    if k >= 2:
        for train, test in StratifiedKFold(k, shuffle=True, random_state=0).split(sents, y):
            sub = replace(
                topic,
                examples=tuple(sents[i] for i in train if y[i] == 1),
                counter_examples=tuple(sents[i] for i in train if y[i] == 0),
            )
            det = LearnedDetector(sub, embedder, use_model=False)
            docs = [Document(str(i), "", sents[i], (sents[i],)) for i in test]
            scores[test] = [d.score for d in det.detect_docs(docs)]
            splits.append(test)
        threshold, warning = choose_threshold(y, scores, topic.target_precision)
    else:
        threshold, warning = topic.threshold, "too few examples/counter-examples to calibrate"
    model = TrainedModel(_version(), threshold, None)
    report = TrainReport(topic.id, model.version, threshold, 0, 0, "examples", warning=warning)
    if splits:
        report.cv = _cv_report(y, scores, splits, threshold)
        p, r, f = prf(y, scores >= threshold)
        report.pooled = {"precision": p, "recall": r, "f1": f}
        report.pr = _pr_curve(y, scores)
    report.model = model
    return report
