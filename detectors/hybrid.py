"""Hybrid detector: lexical gate, then a learned judgement of the gated passages.

Why: event topics are decided by one sentence, and most articles never mention
the event's words at all. So:
1. Guards (require_any + entity roles in one sentence, no exclude_any in the
   passage) pick *candidate passages*; a document without one is rejected with
   the guard as the reason - cheap, and explainable.
2. Each candidate passage is scored by the few-shot classifier (P(topic) from
   examples vs counter-examples) blended with semantic similarity to the
   examples: `score = w * P + (1 - w) * sim_scaled`.
3. Centrality, as the labelling guidelines define it (headline / lead or a
   substantial part of the article): a candidate in passage 0 gets `lead_bonus`,
   each further candidate passage `repeat_bonus` (capped at `max_repeat`).
The document score is the best candidate's; `matched = score >= threshold`.
Options (topic `detector_options.hybrid`): weight, lead_bonus, repeat_bonus,
max_repeat, C, sim_low, sim_high.
"""

from __future__ import annotations

import numpy as np

from detectors.base import Batch, Detector, Document
from detectors.classifier import FewShotModel
from detectors.lexical import Guards
from detectors.semantic import SemanticDetector
from newswatch.models import Decision


class HybridDetector(Detector):
    kind = "hybrid"

    def __init__(self, topic, embedder) -> None:
        super().__init__(topic, embedder)
        o = self.options
        self.guards = Guards(topic)
        self.fewshot = FewShotModel(topic, embedder, c=float(o.get("C", 4.0)))
        self.semantic = SemanticDetector(topic, embedder)
        self.weight = float(o.get("weight", 0.7))
        self.lead_bonus = float(o.get("lead_bonus", 0.1))
        self.repeat_bonus = float(o.get("repeat_bonus", 0.05))
        self.max_repeat = int(o.get("max_repeat", 3))
        self.sim_low = float(o.get("sim_low", 0.2))
        self.sim_high = float(o.get("sim_high", 0.7))
        self.threshold = float(o.get("threshold", topic.threshold))

    def gate(self, doc: Document) -> bool:
        return not self.guards.quick_reject(doc)

    def _judge(self, doc: Document, vecs: np.ndarray) -> Decision:
        checks = self.guards.checks(doc)
        cand = [i for i, c in enumerate(checks) if c.qualifies]
        if not cand:
            vetoed = next((c for c in checks if c.excluded), None)
            return self.no_match(
                guard=vetoed.describe() if vetoed else "no passage passes require_any/entities"
            )
        if len(vecs) != len(doc.passages):
            return self.no_match(guard="not embedded")
        cv = vecs[cand]
        prob = self.fewshot.proba(cv)
        sim, which = self.semantic.passage_scores(cv)
        sim_scaled = np.clip((sim - self.sim_low) / (self.sim_high - self.sim_low), 0, 1)
        base = self.weight * prob + (1 - self.weight) * sim_scaled
        extra = self.repeat_bonus * min(len(cand) - 1, self.max_repeat)
        lead = np.array([self.lead_bonus if i == 0 else 0.0 for i in cand])
        scores = np.clip(base + lead + extra, 0, 1)
        k = int(np.argmax(scores))
        p = cand[k]
        score = float(scores[k])
        return Decision(
            score=score,
            matched=score >= self.threshold,
            evidence=doc.passages[p],
            detector=self.kind,
            example=self.semantic.anchors[int(which[k])],
            guard=checks[p].describe(),
            details={
                "passage": p,
                "classifier": round(float(prob[k]), 3),
                "similarity": round(float(sim[k]), 3),
                "candidates": cand,
            },
        )

    def detect(self, batch: Batch) -> list[Decision]:
        return [self._judge(d, v) for d, v in zip(batch.docs, batch.vectors, strict=True)]
