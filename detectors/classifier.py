"""Few-shot classifier: logistic regression fitted at load time on the topic's examples.

Positives are the examples (plus the description), negatives the counter-examples:
unlike plain cosine, the fit learns which directions separate *this event* from
look-alikes the analyst listed (a minister's trip, a doping ban). Fitting ~100
vectors takes milliseconds, so nothing is cached.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from newswatch.detectors.base import Batch, Detector, DetectorOptions
from newswatch.embed import Embedder
from newswatch.models import Decision
from newswatch.schema import Topic


class FewShotModel:
    """Embeds a topic's examples once and scores passage vectors with P(topic)."""

    def __init__(self, topic: Topic, embedder: Embedder, c: float = 4.0) -> None:
        if not topic.examples or not topic.counter_examples:
            raise ValueError(
                f"{topic.source_file}: topic {topic.id!r}: the classifier needs both "
                "examples and counter_examples"
            )
        self.examples = (topic.description, *topic.examples)
        pos = embedder.encode(list(self.examples))
        neg = embedder.encode(list(topic.counter_examples))
        self.example_vecs = pos
        x = np.vstack([pos, neg])
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        from sklearn.linear_model import LogisticRegression  # 3-5 s of imports: fit time only

        self.model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(x, y)

    def proba(self, vecs: np.ndarray) -> np.ndarray:
        if len(vecs) == 0:
            return np.zeros(0)
        return self.model.predict_proba(vecs)[:, 1]

    def nearest_example(self, vec: np.ndarray) -> str:
        return self.examples[int(np.argmax(self.example_vecs @ vec))]


class ClassifierOptions(DetectorOptions):
    C: float = Field(4.0, gt=0, description="Inverse regularisation of the logistic regression.")


class ClassifierDetector(Detector):
    kind = "classifier"
    Options = ClassifierOptions
    opts: ClassifierOptions

    def __init__(self, topic, embedder) -> None:
        super().__init__(topic, embedder)
        self.fewshot = FewShotModel(topic, embedder, c=self.opts.C)

    def detect(self, batch: Batch) -> list[Decision]:
        return self.best_passages(
            batch,
            score=self.fewshot.proba,
            example=lambda vecs, p: self.fewshot.nearest_example(vecs[p]),
            threshold=self.threshold,
        )
