"""The extraction worker processes: trafilatura is pure Python + lxml and serialises on
the GIL in threads, so big batches are extracted in a small process pool."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor


class ExtractionPool:
    """A small process pool for trafilatura, started on first use and kept for the process.

    forkserver, not fork: the parent has torch and Prefect threads running. A pool whose
    worker died is discarded and the next use starts a fresh one.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def get(self) -> ProcessPoolExecutor | None:
        """The running pool (started now if need be), or None on a single core."""
        if self.workers < 2:
            return None
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["newswatch.extract"])
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
            return self._pool

    def discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool so the next use starts a fresh one."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def warm_up(self, processes: bool = True) -> None:
        """Pay extraction's start-up (imports, language model, workers) before a pass."""
        from newswatch.extract import warm_up

        warm_up()
        pool = self.get() if processes else None
        if pool is not None:
            list(pool.map(_noop, range(self.workers)))

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _noop(_i: int) -> None:
    return None
