"""Semantic detector: best passage's similarity to the topic's examples and description."""

from __future__ import annotations

import numpy as np

from detectors.base import Batch, Detector
from newswatch.models import Decision


class SemanticDetector(Detector):
    kind = "semantic"

    def __init__(self, topic, embedder) -> None:
        super().__init__(topic, embedder)
        self.anchors = (topic.description, *topic.examples)
        self.anchor_vecs = embedder.encode(list(self.anchors))

    def detect(self, batch: Batch) -> list[Decision]:
        out: list[Decision] = []
        for doc, vecs in zip(batch.docs, batch.vectors, strict=True):
            if len(vecs) == 0:
                out.append(Decision(0.0, False, detector=self.kind))
                continue
            sims = vecs @ self.anchor_vecs.T  # (passages, anchors)
            p, a = np.unravel_index(int(np.argmax(sims)), sims.shape)
            score = float(sims[p, a])
            out.append(
                Decision(
                    score=score,
                    matched=score >= self.topic.threshold,
                    evidence=doc.passages[p],
                    detector=self.kind,
                    example=self.anchors[a],
                )
            )
        return out
