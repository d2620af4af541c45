"""Children die with the pass, whatever kills it (kill -9, the OOM killer).

A `newswatch run` has children it did not write: Prefect's temporary API server,
multiprocessing's forkserver and resource tracker, the extraction workers. When
the main process is killed they would live on, holding memory and the output
pipes a supervisor waits on. `start_reaper()` starts a tiny watcher process (this
file run as a script: it imports nothing of newswatch) in its own session, with
no inherited output. It notes the main process's descendants twice a second and,
when the pipe from the main process closes (it exited or was killed), terminates
the ones still alive, then kills what ignores SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

SCAN_SECONDS = 0.5
GRACE_SECONDS = 2.0
_started: subprocess.Popen | None = None


def start_reaper() -> subprocess.Popen | None:
    """Watch this process's descendants from outside (Linux /proc only; else a no-op)."""
    global _started
    if _started is not None or not os.path.isdir("/proc/self"):
        return _started
    _started = subprocess.Popen(
        [sys.executable, "-I", os.path.abspath(__file__), str(os.getpid())],
        stdin=subprocess.PIPE,  # never written: its EOF is how the reaper learns we are gone
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,  # not in our process group: Ctrl-C and killpg spare it
    )
    return _started


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) from /proc/<pid>/stat, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[19])


def _children(pid: int) -> list[int] | None:
    """Child pids from /proc/<pid>/task/*/children (cheap); None when the kernel lacks it."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    kids: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                kids.extend(int(x) for x in fh.read().split())
        except FileNotFoundError:
            return None
        except OSError:
            continue
    return kids


def _children_by_scan() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := _stat(int(name))) is not None:
            children.setdefault(st[0], []).append(int(name))
    return children


def descendants(root: int) -> dict[int, int]:
    """pid -> start time of every living descendant of `root`."""
    scanned: dict[int, list[int]] | None = None
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        kids = _children(pid)
        if kids is None:  # no children files: one full /proc scan instead
            scanned = scanned if scanned is not None else _children_by_scan()
            kids = scanned.get(pid, [])
        for kid in kids:
            if kid in found or kid == os.getpid():
                continue
            st = _stat(kid)
            if st is not None:
                found[kid] = st[1]
                todo.append(kid)
    return found


def _signal_alive(known: dict[int, int], sig: int) -> int:
    alive = 0
    for pid, start in known.items():
        st = _stat(pid)
        if st is None or st[1] != start:
            continue  # gone, or the pid now belongs to someone else
        try:
            os.kill(pid, sig)
            alive += 1
        except OSError:
            pass
    return alive


def _watch(root: int) -> None:
    gone = threading.Event()

    def wait_for_eof() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            gone.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    known: dict[int, int] = {}
    while not gone.wait(SCAN_SECONDS):
        known.update(descendants(root))
    # Children of the main process are re-parented now, but theirs (the forkserver's
    # workers) are still theirs: follow every known process down once more.
    for pid in list(known):
        known.update(descendants(pid))
    if _signal_alive(known, signal.SIGTERM):
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and _signal_alive(known, 0):
            time.sleep(0.1)
        _signal_alive(known, signal.SIGKILL)


if __name__ == "__main__":
    _watch(int(sys.argv[1]))
