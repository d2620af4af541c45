"""Embed a chunk's passages in one encode call, then run every topic's detectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from newswatch.embed import Embedder
from newswatch.events import signature_text
from newswatch.models import Article, Decision
from newswatch.pass_.stats import PassStats
from newswatch.scoring import TopicScorer
from newswatch.stories import document_vector


@dataclass(frozen=True)
class Analysed:
    article: Article
    vector: np.ndarray  # document vector for story clustering
    decisions: dict[str, Decision]
    # per matched topic: the embedding of headline + evidence sentence (event grouping)
    event_vectors: dict[str, np.ndarray] = field(default_factory=dict)


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
    # matches are rare: one more small encode call for their event signatures
    keys = [
        (i, t, signature_text(a, d))
        for i, (a, dec) in enumerate(zip(articles, decisions, strict=True))
        for t, d in dec.items()
        if d.matched
    ]
    event_vecs: list[dict[str, np.ndarray]] = [{} for _ in articles]
    if keys:
        with stats.timed("embed"):
            sig = embedder.encode([text for *_, text in keys])
        for (i, t, _), v in zip(keys, sig, strict=True):
            event_vecs[i][t] = np.asarray(v, dtype=np.float32)
    return [
        Analysed(a, document_vector(v), dec, ev)
        for a, v, dec, ev in zip(articles, vectors, decisions, event_vecs, strict=True)
    ]
