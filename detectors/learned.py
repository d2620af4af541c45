"""Learned detector: the hybrid's signals combined by weights fitted on labels.

Why: the hybrid kind adds hand-set bonuses and floors (lead, story frame, agent,
domestic trip...) tuned on a few dev stories; they generalise poorly. This kind
computes the same signals on the same candidate sentences (one encode of the
gated sentences per batch, shared parse) and lets `newswatch train` fit a
logistic combiner over them from the analyst's labels, with the threshold
chosen by cross-validation. Until a topic is trained it decides exactly like
the hybrid kind (its hand formula and the topic's threshold), so switching a
topic to `learned` changes nothing before the first `newswatch train`.

Structural signals (who acts, a head of state or government, a place abroad,
told as history, in the lead) are read for every topic with entity roles, not
only when a hybrid frame option is set, because the combiner decides their weight.

`gate_words` loosen the candidate gate (extra event words: "flies to", "heads
to", "signs"); looser candidates only help once labels teach the combiner which
of them matter, so they are opt-in.

Models live in `<config_dir>/models/<topic id>/<version>.joblib` with a JSON
card beside it and a `LATEST` file naming the version in use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from pydantic import Field

from newswatch.detectors.base import Batch, Document
from newswatch.detectors.frames import FrameReader
from newswatch.detectors.hybrid import HybridDetector, HybridOptions
from newswatch.detectors.lexicon import PhraseSet
from newswatch.models import Decision

FEATURES: tuple[str, ...] = (
    "hybrid",
    "prob_max",
    "prob_best",
    "sim_max",
    "base_max",
    "in_lead",
    "story",
    "framed",
    "headline",
    "centrality",
    "n_candidates",
    "first_at",
    "agent_role",
    "agent_other",
    "abroad",
    "mutual",
    "background",
    "domestic",
)


class FoldEnsemble:
    """The cross-validation folds' combiners, averaged: the threshold chosen on their
    out-of-fold scores then holds for the saved model (one refit on every label scores
    differently than the folds did)."""

    def __init__(self, models: list[Any]) -> None:
        self.models = models

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m.predict_proba(x) for m in self.models], axis=0)


@dataclass(frozen=True)
class TrainedModel:
    """What `newswatch train` saves for one topic: a combiner (None = the hybrid formula,
    when there were no labels) and the cross-validated threshold."""

    version: str
    threshold: float
    combiner: Any = None  # sklearn pipeline over FEATURES, predict_proba
    features: tuple[str, ...] = FEATURES

    def score(self, signals: dict[str, float]) -> float:
        if self.combiner is None:
            return float(signals["hybrid"])
        x = np.array([[signals.get(f, 0.0) for f in self.features]])
        return float(self.combiner.predict_proba(x)[0, 1])


def model_dir(models_dir: str | Path, topic_id: str) -> Path:
    return Path(models_dir) / topic_id


def save_model(models_dir: str | Path, topic_id: str, model: TrainedModel, card: dict) -> Path:
    """Write the model and its card, then point LATEST at it (last, so a reader never sees
    a version whose file is not complete)."""
    d = model_dir(models_dir, topic_id)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{model.version}.joblib"
    joblib.dump(model, path)
    (d / f"{model.version}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    tmp = d / "LATEST.tmp"
    tmp.write_text(model.version + "\n", encoding="utf-8")
    tmp.replace(d / "LATEST")
    return path


def load_model(models_dir: str | Path, topic_id: str) -> TrainedModel | None:
    """The topic's model in use (LATEST), or None when it was never trained."""
    if not models_dir:
        return None
    d = model_dir(models_dir, topic_id)
    latest = d / "LATEST"
    if not latest.exists():
        return None
    version = latest.read_text(encoding="utf-8").strip()
    path = d / f"{version}.joblib"
    try:
        model = joblib.load(path)
    except Exception as exc:  # a broken file must say which one
        raise ValueError(f"{path}: cannot load the trained model of {topic_id!r}: {exc}") from None
    if not isinstance(model, TrainedModel):
        raise ValueError(f"{path}: not a newswatch trained model")
    return model


class LearnedOptions(HybridOptions):
    """`detector_options.learned`: the hybrid options (its signals) plus the gate words."""

    gate_words: list[str] = Field(
        [], description="Extra event words that make a sentence a candidate (loosen the gate)."
    )


class LearnedDetector(HybridDetector):
    kind = "learned"
    Options = LearnedOptions
    opts: LearnedOptions

    def __init__(self, topic, embedder, use_model: bool = True) -> None:
        opts = self.options_for(topic)
        if opts.gate_words:
            topic = replace(topic, require_any=(*topic.require_any, *opts.gate_words))
        super().__init__(topic, embedder)
        roles = PhraseSet.of(a for aliases in topic.entities.values() for a in aliases)
        if self.frames is None and roles:
            self.frames = FrameReader(self.guards.require, roles)
        self.model = load_model(topic.models_dir, topic.id) if use_model else None
        self.model_version = self.model.version if self.model else ""
        if self.model is not None:
            self.threshold = self.model.threshold

    def judge(self, batch: Batch) -> list[tuple[Decision, dict[str, float] | None]]:
        """Per document: the hybrid decision and its signals (None when gated out)."""
        cands = [self.candidates(d) for d in batch.docs]
        flat = [j for c in cands for *_, j in c]
        heads = [d.title for d, c in zip(batch.docs, cands, strict=True) if c and d.title]
        vecs = self.embedder.encode(flat + (heads if self.headline_centrality else []))
        head_p = iter(self.fewshot.proba(vecs[len(flat) :]))
        out: list[tuple[Decision, dict[str, float] | None]] = []
        start = 0
        for doc, cand in zip(batch.docs, cands, strict=True):
            if not cand:
                out.append((self._reject(doc), None))
                continue
            v = vecs[start : start + len(cand)]
            start += len(cand)
            headline = float(next(head_p)) if self.headline_centrality and doc.title else 0.0
            out.append(self._judge(doc, cand, v, headline))
        return out

    def _decided(self, decision: Decision, signals: dict[str, float] | None) -> Decision:
        if signals is None:
            return replace(decision, detector=self.kind, model_version=self.model_version)
        score = self.model.score(signals) if self.model else decision.score
        return replace(
            decision,
            score=score,
            matched=score >= self.threshold,
            detector=self.kind,
            model_version=self.model_version,
        )

    def detect(self, batch: Batch) -> list[Decision]:
        return [self._decided(d, s) for d, s in self.judge(batch)]

    def _batch(self, docs: list[Document]) -> Batch:
        return Batch(docs=docs, vectors=[np.zeros((0, 0))] * len(docs), embedder=self.embedder)

    def detect_docs(self, docs: list[Document]) -> list[Decision]:
        """Decisions without passage vectors (this kind embeds its own candidate sentences)."""
        return self.detect(self._batch(docs))

    def signals(self, docs: list[Document]) -> list[dict[str, float] | None]:
        """The combiner's inputs per document (None: no candidate sentence), for training."""
        return [s for _, s in self.judge(self._batch(docs))]
