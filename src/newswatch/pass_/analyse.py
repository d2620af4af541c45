"""Embed a chunk's passages in one encode call, then run every topic's detectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newswatch.embed import Embedder
from newswatch.models import Article, Decision
from newswatch.pass_.stats import PassStats
from newswatch.scoring import TopicScorer
from newswatch.stories import document_vector


@dataclass(frozen=True)
class Analysed:
    article: Article
    vector: np.ndarray  # document vector for story clustering
    decisions: dict[str, Decision]


def analyse(
    articles: Sequence[Article], scorer: TopicScorer, embedder: Embedder, stats: PassStats
) -> list[Analysed]:
    """Embed every passage of the batch in ONE encode call, then run every topic's detectors."""
    docs = scorer.documents([(a.canonical_url, a.title, a.text) for a in articles])
    flat = [p for d in docs for p in d.passages]
    with stats.timed("embed"):
        matrix = embedder.encode(flat)
    stats.passages_embedded += len(flat)
    vectors, i = [], 0
    for d in docs:
        vectors.append(matrix[i : i + len(d.passages)])
        i += len(d.passages)
    with stats.timed("detect"):
        decisions = scorer.score(docs, vectors)
    return [
        Analysed(a, document_vector(v), dec)
        for a, v, dec in zip(articles, vectors, decisions, strict=True)
    ]
