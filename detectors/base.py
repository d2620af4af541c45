"""The contract every detector kind follows.

A detector is built once per topic (fitting whatever it needs from the topic's
examples), then judges a batch of documents whose passages were embedded in one
call by the pipeline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

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

    def __init__(self, topic: Topic, embedder: Embedder) -> None:
        self.topic = topic
        self.embedder = embedder

    @abstractmethod
    def detect(self, batch: Batch) -> list[Decision]:
        """One Decision per document, in order; `matched` is the alert decision."""
