"""Semantic detector: best passage's similarity to the topic's examples and description.

The baseline kind: no training, works for any topic with a few examples. Cosine
to prototypes alone confuses "about the same actors" with "the same event", so
the hybrid kind uses it only as one signal; here a counter-example closer than
every example also vetoes the passage.
"""

from __future__ import annotations

import numpy as np

from newswatch.detectors.base import Batch, Detector
from newswatch.models import Decision


class SemanticDetector(Detector):
    kind = "semantic"

    def __init__(self, topic, embedder) -> None:
        super().__init__(topic, embedder)
        self.anchors = (topic.description, *topic.examples)
        self.anchor_vecs = embedder.encode(list(self.anchors))
        self.counter_vecs = embedder.encode(list(topic.counter_examples))

    def passage_scores(self, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per passage: best similarity to an anchor, and the index of that anchor."""
        sims = vecs @ self.anchor_vecs.T
        best = sims.max(axis=1)
        if len(self.counter_vecs):
            counter = (vecs @ self.counter_vecs.T).max(axis=1)
            best = np.where(counter > best, best - (counter - best), best)
        return best, sims.argmax(axis=1)

    def detect(self, batch: Batch) -> list[Decision]:
        return self.best_passages(
            batch,
            score=lambda vecs: self.passage_scores(vecs)[0],
            example=lambda vecs, p: self.anchors[int(self.passage_scores(vecs[p : p + 1])[1][0])],
            threshold=self.threshold,
        )
