"""Story clustering: wire copies and light rewrites of one event become one story.

An article joins the most similar recent article's story when their story vectors
(the embedding of the title + lead, passage 0: one short text per article, which the
pass encodes anyway) reach `similarity` in cosine; otherwise it starts a story of its
own. Alerts are per (topic, story), so the
second outlet carrying a Reuters story is a follow-up, not a second alert.
"""

from __future__ import annotations

import uuid

import numpy as np


def document_vector(passage_vectors: np.ndarray) -> np.ndarray:
    """Mean of passage vectors, normalised (the story vector before title + lead; kept for
    benchmarks/stories.py, which compares the two)."""
    if len(passage_vectors) == 0:
        return np.zeros((passage_vectors.shape[1] if passage_vectors.ndim == 2 else 0,), np.float32)
    v = passage_vectors.mean(axis=0)
    n = float(np.linalg.norm(v))
    return (v / n if n else v).astype(np.float32)


class StoryIndex:
    """Recent articles' vectors, extended as a pass assigns its own articles."""

    def __init__(
        self, urls: list[str], story_ids: list[str], matrix: np.ndarray, similarity: float
    ):
        self.urls = list(urls)
        self.story_ids = list(story_ids)
        self.matrix = matrix if len(urls) else None
        self.similarity = similarity

    def assign(self, url: str, vector: np.ndarray) -> tuple[str, float]:
        """The story id for this article (existing or new) and the similarity that decided it."""
        best_sim, story = 0.0, None
        if self.matrix is not None and vector.size and self.matrix.shape[1] == vector.size:
            sims = self.matrix @ vector
            i = int(np.argmax(sims))
            best_sim = float(sims[i])
            if best_sim >= self.similarity:
                story = self.story_ids[i]
        if story is None:
            story = uuid.uuid5(uuid.NAMESPACE_URL, url).hex
        self.urls.append(url)
        self.story_ids.append(story)
        row = vector.reshape(1, -1)
        self.matrix = row if self.matrix is None else np.vstack([self.matrix, row])
        return story, best_sim
