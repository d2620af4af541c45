"""Score articles against every watched topic: the one entry point for run/score/eval/explain.

Each topic's detectors are built once (few-shot models fit at load time). A batch
of documents is embedded in ONE encode call, skipping documents that no detector
reading passage vectors could match (its `gate` says no: e.g. no sanctions word
anywhere) - those get a non-match decision carrying the guard as reason. The
hybrid kind reads only its few gated sentences, which go into the same call
(`Detector.texts_to_encode`; its own encode then finds them cached).

Combination rule when a topic lists several detectors: every listed detector
must match (logical AND, so each extra kind can only veto, never add an alert).
The reported score, evidence and example are the first listed detector's; if a
later detector vetoes, its guard (or "vetoed by <kind>") is reported, and every
kind's score is kept in `Decision.scores`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from newswatch.detectors import registry
from newswatch.detectors.base import Batch, Detector, Document
from newswatch.embed import Embedder
from newswatch.models import Decision
from newswatch.passages import split_passages
from newswatch.schema import Topic


def combine(decisions: Sequence[Decision]) -> Decision:
    """AND over detectors; the first one explains (see module docstring)."""
    first = decisions[0]
    scores = tuple((d.detector, round(d.score, 4)) for d in decisions)
    if len(decisions) == 1:
        return replace(first, scores=scores)
    veto = next((d for d in decisions if not d.matched), None)
    if veto is None:
        return replace(first, scores=scores)
    guard = veto.guard or f"vetoed by {veto.detector}"
    return replace(first, matched=False, guard=guard, scores=scores)


class TopicScorer:
    """Builds every topic's detectors once, then scores batches of documents."""

    def __init__(self, topics: Sequence[Topic], embedder: Embedder, max_passages: int = 12):
        self.topics = tuple(topics)
        self.embedder = embedder
        self.max_passages = max_passages
        self.detectors: dict[str, list[Detector]] = {
            t.id: [registry.build(kind, t, embedder) for kind in t.detectors] for t in self.topics
        }

    def documents(self, items: Sequence[tuple[str, str, str]]) -> list[Document]:
        """(id, title, text) -> Documents with passages (title + lead first)."""
        return [
            Document(i, title, text, split_passages(title, text, self.max_passages))
            for i, title, text in items
        ]

    def wanted(self, doc: Document) -> bool:
        """Whether some detector reading passage vectors could match `doc` (else skip embedding)."""
        return any(
            d.needs_passage_vectors and d.gate(doc)
            for dets in self.detectors.values()
            for d in dets
        )

    def texts_for(self, docs: Sequence[Document]) -> list[str]:
        """Everything scoring `docs` will encode: the passages of the documents some
        passage-vector detector wants, and the texts detectors encode themselves."""
        want = [p for d in docs if self.wanted(d) for p in d.passages]
        own = [t for dets in self.detectors.values() for d in dets for t in d.texts_to_encode(docs)]
        return want + own

    def embed(self, docs: Sequence[Document]) -> list[np.ndarray]:
        """Passage vectors of the wanted documents in one encode call; empty for the rest."""
        want = [self.wanted(d) for d in docs]
        flat = [p for d, w in zip(docs, want, strict=True) if w for p in d.passages]
        vecs = self.embedder.encode(flat)
        out: list[np.ndarray] = []
        start = 0
        empty = np.zeros((0, self.embedder.dim), dtype=np.float32)
        for d, w in zip(docs, want, strict=True):
            if w:
                out.append(vecs[start : start + len(d.passages)])
                start += len(d.passages)
            else:
                out.append(empty)
        return out

    def score(
        self, docs: Sequence[Document], vectors: Sequence[np.ndarray] | None = None
    ) -> list[dict[str, Decision]]:
        """Per document: topic id -> the alert Decision (matched = alert). Without `vectors`,
        everything the batch needs is encoded in one call (each distinct text once)."""
        if vectors is None:
            with self.embedder.chunk_cache():
                self.embedder.encode(self.texts_for(docs))
                return self.score(docs, self.embed(docs))
        batch = Batch(docs=docs, vectors=vectors, embedder=self.embedder)
        results: list[dict[str, Decision]] = [{} for _ in docs]
        for topic in self.topics:
            per_kind = [det.detect(batch) for det in self.detectors[topic.id]]
            for i, decisions in enumerate(zip(*per_kind, strict=True)):
                results[i][topic.id] = combine(decisions)
        return results
