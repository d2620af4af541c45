"""The contract every detector kind follows.

A detector is built once per topic (fitting whatever it needs from the topic's
examples), then judges a batch of documents whose passages were embedded in one
call by the pipeline.

Optional extension: `gate(doc)` says whether the detector could possibly match a
document without looking at its vectors. Callers may skip embedding documents no
detector wants (vectors of length 0), which keeps full-corpus runs cheap; a
detector must then answer "no match" for a document it gated out. A kind with
`needs_passage_vectors = False` never reads Batch.vectors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from newswatch.config import Topic
from newswatch.embed import Embedder
from newswatch.models import Decision


@dataclass(frozen=True)
class Document:
    """One article as detectors see it: passage 0 is the title plus the lead."""

    id: str
    title: str
    text: str
    passages: tuple[str, ...]


@dataclass(frozen=True)
class Batch:
    docs: Sequence[Document]
    vectors: Sequence[np.ndarray]  # per doc: (len(passages), dim), L2-normalised
    embedder: Embedder


class Detector(ABC):
    kind: ClassVar[str]
    # False for kinds that embed their own (gated) sentences and ignore Batch.vectors
    needs_passage_vectors: ClassVar[bool] = True
    # the keys this kind reads from `detector_options.<kind>`: a typo is an error, not a no-op
    option_names: ClassVar[frozenset[str]] = frozenset({"threshold"})

    def __init__(self, topic: Topic, embedder: Embedder) -> None:
        self.topic = topic
        self.embedder = embedder

    @property
    def options(self) -> dict[str, Any]:
        """This kind's section of the topic's `detector_options` (e.g. `{hybrid: {...}}`)."""
        opts = self.topic.detector_options.get(self.kind, {})
        if not isinstance(opts, dict):
            return {}
        unknown = self.unknown_options(opts)
        if unknown:
            raise ValueError(
                f"{self.topic.source_file}: topic {self.topic.id!r}: detector_options."
                f"{self.kind}: unknown option(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(self.option_names))})"
            )
        return opts

    @classmethod
    def unknown_options(cls, opts: dict[str, Any]) -> list[str]:
        """The keys of `opts` this kind does not read, sorted (config load and build)."""
        return sorted(set(opts) - cls.option_names)

    def gate(self, doc: Document) -> bool:
        """False only if this detector can never match `doc` (so it need not be embedded)."""
        return True

    def no_match(self, guard: str = "", **details: Any) -> Decision:
        return Decision(0.0, False, detector=self.kind, guard=guard, details=details)

    def best_passages(
        self,
        batch: Batch,
        score: Callable[[np.ndarray], np.ndarray],
        example: Callable[[np.ndarray, int], str],
        threshold: float,
    ) -> list[Decision]:
        """Judge each document by its best passage: `score(vecs)` gives one score per passage,
        `example(vecs, p)` names the topic example behind passage p."""
        out: list[Decision] = []
        for doc, vecs in zip(batch.docs, batch.vectors, strict=True):
            if len(vecs) == 0:
                out.append(self.no_match())
                continue
            scores = score(vecs)
            p = int(np.argmax(scores))
            out.append(
                Decision(
                    score=float(scores[p]),
                    matched=float(scores[p]) >= threshold,
                    evidence=doc.passages[p],
                    detector=self.kind,
                    example=example(vecs, p),
                    details={"passage": p},
                )
            )
        return out

    @abstractmethod
    def detect(self, batch: Batch) -> list[Decision]:
        """One Decision per document, in order; `matched` is the alert decision."""
