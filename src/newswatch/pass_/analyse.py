"""Encode what a chunk's decisions need in one call, then run every topic's detectors.

Per article: its title + lead (passage 0) for story clustering; its other passages only
when a configured topic's detector reads passage vectors and could match it; the texts
the detectors encode themselves (the hybrid's gated candidate sentences). Each distinct
text is encoded once per chunk (`Embedder.chunk_cache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from newswatch.embed import Embedder
from newswatch.events import signature_text
from newswatch.models import Article, Decision
from newswatch.pass_.stats import PassStats
from newswatch.scoring import TopicScorer


@dataclass(frozen=True)
class Analysed:
    article: Article
    vector: np.ndarray  # story vector: the title + lead (see stories.py)
    decisions: dict[str, Decision]
    # per matched topic: the embedding of headline + evidence sentence (event grouping)
    event_vectors: dict[str, np.ndarray] = field(default_factory=dict)


def analyse(
    articles: Sequence[Article], scorer: TopicScorer, embedder: Embedder, stats: PassStats
) -> list[Analysed]:
    """One encode call for everything the chunk's decisions need, then the detectors."""
    docs = scorer.documents([(a.canonical_url, a.title, a.text) for a in articles])
    story_texts = [d.passages[0] for d in docs]
    with embedder.chunk_cache() as cache:
        with stats.timed("embed"):
            embedder.encode(story_texts + scorer.texts_for(docs))
            vectors = scorer.embed(docs)  # cached: no model call
            story = embedder.encode(story_texts)
        stats.passages_embedded += sum(len(v) for v in vectors)
        with stats.timed("detect"):
            decisions = scorer.score(docs, vectors)
        # matches are rare: their event signatures in one more call (texts already
        # encoded this chunk come from the cache)
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
    stats.texts_encoded += cache.encoded
    return [
        Analysed(a, v, d, ev)
        for a, v, d, ev in zip(articles, story, decisions, event_vecs, strict=True)
    ]
