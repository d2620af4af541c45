"""Long-lived resources of a process: built once, reused by every pass.

Loading the model costs seconds and fitting topic detectors costs a little more;
a served deployment runs many passes in one process, so both are cached here,
the detectors keyed by the topic files' content so an edited topic takes effect
on the next pass without a restart.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from newswatch.embed import Embedder, get_embedder
from newswatch.extract_pool import ExtractionPool
from newswatch.schema import Config, Topic

_LOCK = threading.Lock()
# one extraction pool per process, like the model: a served deployment reuses it every pass
EXTRACTION_POOL = ExtractionPool()
_SCORERS: dict[tuple[str, str], object] = {}


def topics_fingerprint(topics: tuple[Topic, ...]) -> str:
    h = hashlib.sha256()
    for t in topics:
        h.update(repr(t).encode())
        # a new `newswatch train` model takes effect on the next pass, as an edited topic does
        latest = Path(t.models_dir, t.id, "LATEST") if t.models_dir else None
        if latest is not None and latest.exists():
            h.update(latest.read_bytes())
    return h.hexdigest()


def embedder_for(config: Config) -> Embedder:
    e = config.settings.embedding
    return get_embedder(e.model, device=e.device, batch_size=e.batch_size, backend=e.backend)


def scorer_for(config: Config):
    """The TopicScorer for this config's topics, fitted once per distinct topic set."""
    from newswatch.scoring import TopicScorer

    embedder = embedder_for(config)
    key = (embedder.path, embedder.backend, topics_fingerprint(config.topics))
    with _LOCK:
        scorer = _SCORERS.get(key)
        if scorer is None:
            scorer = _SCORERS[key] = TopicScorer(
                config.topics,
                embedder,
                max_passages=config.settings.embedding.max_passages_per_article,
            )
        return scorer
