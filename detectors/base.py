"""The contract every detector kind follows.

A detector is built once per topic (fitting whatever it needs from the topic's
examples), then judges a batch of documents whose passages were embedded in one
call by the pipeline.

Optional extension: `gate(doc)` says whether the detector could possibly match a
document without looking at its vectors. Callers may skip embedding documents no
detector wants (vectors of length 0), which keeps full-corpus runs cheap; a
detector must then answer "no match" for a document it gated out. A kind with
`needs_passage_vectors = False` never reads Batch.vectors; a kind that encodes
texts of its own says which in `texts_to_encode(docs)`, so the pass can encode
them with everything else in one call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newswatch.embed import Embedder
from newswatch.models import Decision, Evidence
from newswatch.passages import shared_terms
from newswatch.schema import Topic


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


class DetectorOptions(BaseModel):
    """A detector kind's `detector_options.<kind>`: validated once, when the config loads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float | None = Field(
        None, ge=0, le=1, description="Alert threshold for this kind; default: the topic's."
    )


class Detector(ABC):
    kind: ClassVar[str]
    # False for kinds that embed their own (gated) sentences and ignore Batch.vectors
    needs_passage_vectors: ClassVar[bool] = True
    Options: ClassVar[type[DetectorOptions]] = DetectorOptions

    def __init__(self, topic: Topic, embedder: Embedder) -> None:
        self.topic = topic
        self.embedder = embedder
        self.opts = self.options_for(topic)
        self.threshold = topic.threshold if self.opts.threshold is None else self.opts.threshold

    @classmethod
    def options_for(cls, topic: Topic) -> DetectorOptions:
        """This kind's options for `topic`: the model the config loader validated, or (for a
        Topic built in code) its raw mapping validated here."""
        opts = topic.detector_options.get(cls.kind)
        if isinstance(opts, cls.Options):
            return opts
        try:
            return cls.Options.model_validate(opts or {})
        except ValidationError as exc:
            bad = ", ".join(".".join(map(str, e["loc"])) or e["msg"] for e in exc.errors())
            raise ValueError(
                f"{topic.source_file}: topic {topic.id!r}: detector_options.{cls.kind}: "
                f"bad option(s) {bad} (known: {', '.join(sorted(cls.Options.model_fields))})"
            ) from None

    def gate(self, doc: Document) -> bool:
        """False only if this detector can never match `doc` (so it need not be embedded)."""
        return True

    def texts_to_encode(self, docs: Sequence[Document]) -> list[str]:
        """Texts `detect` will encode itself for these documents (besides passage vectors).

        The pass encodes them in its one shared call beforehand, so `detect`'s own encode
        finds them cached; a kind that does not say gets its texts encoded in its own call.
        """
        return []

    def no_match(self, guard: str = "") -> Decision:
        return Decision(0.0, False, detector=self.kind, guard=guard)

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
            ex = example(vecs, p)
            out.append(
                Decision(
                    score=float(scores[p]),
                    matched=float(scores[p]) >= threshold,
                    evidence=Evidence(
                        doc.passages[p], passage=p, highlights=shared_terms(doc.passages[p], ex)
                    ),
                    detector=self.kind,
                    example=ex,
                )
            )
        return out

    @abstractmethod
    def detect(self, batch: Batch) -> list[Decision]:
        """One Decision per document, in order; `matched` is the alert decision."""
