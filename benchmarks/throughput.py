"""Throughput of one monitoring pass against the cost of the embedding model alone.

Serves N article pages behind M RSS feeds on loopback from a SEPARATE process (real
scrapinghub pages from the shared data, each made a distinct article; generated pages
when the data is absent), runs ONE real pass (`flows.monitor.monitor_pass`) into a
fresh SQLite store with alerts to a JSONL file. Two baselines, same run:
- BARE MODEL (issue 17's): a separate process loads the model alone and reads every
  stored article's title + text once, in 256-token windows (batch 32); headline ratio
  pass time / bare-model time (< 1 means the pass reads less than everything once).
- the texts the pass actually fed the model (its model calls, recorded), encoded again
  alone in this process; with texts and tokens encoded per article.
Then a quiet pass over `--quiet-feeds` feeds (each answers 304 or lists only seen
items) inside this process (as under `newswatch serve`), and quiet one-shot
`newswatch run` processes (with and without Prefect), timed as whole processes.

Process start, Prefect's ephemeral API start and model load are timed and printed
separately: the targets are about the pass, beyond process start. Memory: the RSS of
this (the newswatch) process after model load, its peak during the pass (VmHWM reset
before the pass), per-chunk readings, and the extraction workers' peaks separately;
the site server's memory is in its own process and not counted.

    .venv/bin/python benchmarks/throughput.py --articles 500 --feeds 20 --quiet-feeds 100

Prints figures; asserts nothing.
"""

from __future__ import annotations

import time

_T_MAIN = time.time()  # before the heavy imports: process start = interpreter + stdlib

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gzip  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from email.utils import format_datetime  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
if "PREFECT_HOME" not in os.environ:  # (the site process inherits it: no second folder)
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newswatch-bench-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # busy machines
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
for _var in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "NEWSWATCH_STORE_URL"):
    os.environ.pop(_var, None)

import yaml  # noqa: E402
from site_server import RequestInfo, Site  # noqa: E402

_CANONICAL = re.compile(
    r"<link[^>]+rel=[\"']?canonical[^>]*>|<meta[^>]+property=[\"']og:url[^>]*>", re.I
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_FIRST_P = re.compile(r"<p(\s[^>]*)?>", re.I)
_DESKS = ("Geneva", "Nairobi", "Lima", "Seoul", "Oslo", "Cairo", "Perth", "Quito", "Riga")


# -- the site -------------------------------------------------------------------------


def shared_data() -> Path:
    env = os.environ.get("NEWSWATCH_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def source_pages() -> list[str]:
    """Real article HTML from the shared data, or [] when it is absent."""
    folder = shared_data() / "pages" / "scrapinghub" / "html"
    pages = []
    for path in sorted(folder.glob("*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        pages.append(raw.decode("utf-8", errors="replace"))
    return pages


def generated_page(i: int) -> tuple[str, str]:
    """(title, html) of a synthetic article of about 600 words."""
    desk = _DESKS[i % len(_DESKS)]
    title = f"Officials in {desk} report development {i} in regional talks"
    paras = [
        f"Officials in {desk} said on day {i % 28 + 1} that negotiators had reached a "
        f"provisional understanding on item {i} after a week of talks. " * 3
        for _ in range(8)
    ]
    body = "".join(f"<p>{p}</p>" for p in paras)
    return title, f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body>"


def variant(page: str, i: int) -> tuple[str, str]:
    """A distinct article from a real page: own title and an extra opening sentence."""
    page = _CANONICAL.sub("", page)
    m = _TITLE.search(page)
    base = html.unescape(" ".join(m.group(1).split())) if m else "Untitled"
    title = f"{base} - dispatch {i} from {_DESKS[i % len(_DESKS)]}"
    if m:
        page = page[: m.start(1)] + html.escape(title) + page[m.end(1) :]
    lead = f"Dispatch {i} from our {_DESKS[i % len(_DESKS)]} desk, filed on day {i % 28 + 1}. "
    p = _FIRST_P.search(page)
    if p:
        page = page[: p.end()] + lead + page[p.end() :]
    return title, page


@dataclass
class NewsSite:
    """Several loopback hosts (per-host politeness applies per host), pages and feeds."""

    hosts: list[Site]
    articles: list[tuple[str, str]] = field(default_factory=list)  # (url, title)

    def close(self) -> None:
        for h in self.hosts:
            h.close()


def rss(items: Sequence[tuple[str, str]], published: datetime) -> bytes:
    pub = format_datetime(published)
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link>"
        f"<description>{html.escape(t)}</description><pubDate>{pub}</pubDate></item>"
        for u, t in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>bench</title><link>http://127.0.0.1/</link><description>bench</description>"
        f"{entries}</channel></rss>"
    ).encode()


def feed_handler(body: bytes, etag: str) -> Callable[[RequestInfo], tuple[int, dict, bytes]]:
    """A feed answering 304 to a matching If-None-Match, as well-behaved publishers do."""
    headers = {"Content-Type": "application/rss+xml", "ETag": etag}

    def handle(req: RequestInfo) -> tuple[int, dict, bytes]:
        if req.header("If-None-Match") == etag:
            return 304, dict(headers), b""
        return 200, dict(headers), body

    return handle


def build_site(n_articles: int, n_hosts: int) -> NewsSite:
    pages = source_pages()
    site = NewsSite([Site() for _ in range(n_hosts)])
    for i in range(n_articles):
        title, page = variant(pages[i % len(pages)], i) if pages else generated_page(i)
        host = site.hosts[i % n_hosts]
        path = f"/news/{i}.html"
        host.add(path, page)
        site.articles.append((host.url(path), title))
    return site


def add_feeds(site: NewsSite, n_feeds: int, prefix: str) -> list[dict]:
    """n feeds, feed j listing articles j, j+n, ...; returns their source configs."""
    published = datetime.now(UTC) - timedelta(hours=1)
    sources = []
    for j in range(n_feeds):
        host = site.hosts[j % len(site.hosts)]
        path = f"/{prefix}{j}.xml"
        body = rss(site.articles[j::n_feeds], published)
        host.add_handler(path, feed_handler(body, f'"{prefix}{j}-v1"'))
        sources.append({"name": f"{prefix} {j}", "url": host.url(path), "kind": "feed"})
    return sources


@dataclass
class ServedSite:
    """What the site process serves: the first pass's feeds, the extra quiet feeds."""

    sources: list[dict]
    quiet_extra: list[dict]
    pid: int
    rss_mb: float


def _serve(conn, n_articles: int, n_hosts: int, n_feeds: int, n_quiet: int) -> None:
    """Site process: build the site, send its feeds, serve until told to stop."""
    site = build_site(n_articles, n_hosts)
    try:
        sources = add_feeds(site, n_feeds, "feed")
        quiet_extra = add_feeds(site, max(0, n_quiet - n_feeds), "quiet")
        conn.send((sources, quiet_extra, rss_mb(os.getpid())))
        with contextlib.suppress(EOFError):
            conn.recv()
    finally:
        site.close()


@contextlib.contextmanager
def site_process(n_articles: int, n_hosts: int, n_feeds: int, n_quiet: int):
    """Serve the site from a separate process, so its pages (all in memory, ~250 MB at
    N=2000) and its serving threads are not counted in the newswatch process."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=_serve, args=(child, n_articles, n_hosts, n_feeds, n_quiet), daemon=True
    )
    proc.start()
    child.close()
    try:
        sources, quiet_extra, rss = parent.recv()
        yield ServedSite(sources, quiet_extra, proc.pid, rss)
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


# -- config and timing ------------------------------------------------------------------


def write_config(workdir: Path, sources: list[dict], batch_size: int | None) -> Path:
    cfg = workdir / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    settings: dict = {
        "store": {"url": f"sqlite:///{workdir / 'bench.db'}"},
        "slack": {"token_env": "NEWSWATCH_BENCH_NO_TOKEN", "min_seconds_between_posts": 0},
        "network": {"allow_private_addresses": True, "retries": 0, "timeout_seconds": 10},
    }
    if batch_size:
        settings["embedding"] = {"batch_size": batch_size}
    (cfg / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (cfg / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    shutil.copy(ROOT / "config" / "topics.yaml", cfg / "topics.yaml")
    if (ROOT / "config" / "topics").is_dir():
        shutil.copytree(ROOT / "config" / "topics", cfg / "topics", dirs_exist_ok=True)
    return cfg


def process_start_seconds() -> float:
    """Seconds from process creation to the first line of this script (interpreter start)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        return max(0.0, _T_MAIN - (boot + start_ticks / os.sysconf("SC_CLK_TCK")))
    except (OSError, StopIteration, IndexError, ValueError):
        return float("nan")


@dataclass
class EncodeLog:
    """Every model call of the pass (after the chunk cache and de-duplication)."""

    calls: list[tuple[list[str], float]] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [t for texts, _ in self.calls for t in texts]

    def seconds(self) -> float:
        return sum(s for _, s in self.calls)


@contextlib.contextmanager
def recording(embedder, log: EncodeLog):
    """Wrap the embedder's model call so the pass's inputs can be re-encoded alone."""
    original = embedder._encode

    def encode(texts, *args, **kwargs):
        t0 = time.perf_counter()
        out = original(texts, *args, **kwargs)
        log.calls.append((list(texts), time.perf_counter() - t0))
        return out

    embedder._encode = encode
    try:
        yield log
    finally:
        del embedder._encode


def token_count(embedder, texts: Sequence[str]) -> int:
    """Tokens the model reads for `texts` (special tokens included, truncated as it does)."""
    model = embedder.model
    n = 0
    for i in range(0, len(texts), 512):
        enc = model.tokenizer(
            list(texts[i : i + 512]), truncation=True, max_length=model.max_seq_length
        )
        n += sum(len(ids) for ids in enc["input_ids"])
    return n


def stored_texts(db: Path) -> list[str]:
    """Every stored article's title + text: what the bare model reads."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as con:
        return [f"{t}\n\n{x}" for t, x in con.execute("SELECT title, text FROM articles")]


def bare_model(texts_file: str, backend: str, window: int = 256, batch: int = 32) -> None:
    """(Separate process) The model alone reading every text once in `window`-token
    windows: SentenceTransformer.encode, batch 32. Prints one JSON line."""
    t0 = time.perf_counter()
    from newswatch.embed import Embedder

    emb = Embedder(backend=backend, batch_size=batch)
    load = time.perf_counter() - t0
    tok = emb.model.tokenizer
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    windows: list[str] = []
    tokens = 0
    for text in texts:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        step = window - 2  # [CLS] ... [SEP]
        for i in range(0, max(1, len(ids)), step):
            piece = ids[i : i + step]
            tokens += len(piece) + 2
            windows.append(tok.decode(piece))
    t1 = time.perf_counter()
    emb.model.encode(windows, batch_size=batch, normalize_embeddings=True)
    seconds = time.perf_counter() - t1
    print(json.dumps({"texts": len(texts), "windows": len(windows), "tokens": tokens,
                      "seconds": seconds, "load": load, "backend": backend,
                      "peak_mb": peak_mb()}))  # fmt: skip


def run_bare(texts: list[str], workdir: Path, backend: str) -> dict:
    path = workdir / "bare-texts.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    cmd = [sys.executable, __file__, "--bare-model", str(path), "--bare-backend", backend]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if out.returncode or not lines:
        return {"error": (out.stderr or out.stdout)[-500:]}
    return json.loads(lines[-1])


def quiet_process(config_dir: Path, prefect: bool) -> tuple[float, str]:
    """A whole `newswatch run` process over feeds with nothing new: wall seconds, last line."""
    import resource

    exe = Path(sys.executable).with_name("newswatch")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["COLUMNS"] = "400"  # one summary line, unwrapped
    flag = "--prefect" if prefect else "--no-prefect"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [str(exe), "run", flag, "--config-dir", str(config_dir)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [x for x in out.stdout.splitlines() if x.startswith("pass done")]
    tail = lines[-1] if lines else (out.stdout + out.stderr).strip()[-200:]
    note = f"CPU {cpu:.2f}s (user+sys, the process and its children; wall time includes waiting)"
    return seconds, ("" if out.returncode == 0 else f"exit {out.returncode}: ") + f"{note}; {tail}"


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _status_mb(pid: int | str, key: str) -> float:
    """A /proc/PID/status field (VmRSS, VmHWM) in MB; nan when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def rss_mb(pid: int | str = "self") -> float:
    return _status_mb(pid, "VmRSS")


def peak_mb(pid: int | str = "self") -> float:
    return _status_mb(pid, "VmHWM")


def reset_peak(pid: int | str = "self") -> bool:
    """Reset a process's VmHWM to its current RSS (Linux >= 4.0), so the next reading is
    the peak of what follows, not of model load."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def extraction_worker_pids() -> list[int]:
    from newswatch.runtime import EXTRACTION_POOL

    pool = EXTRACTION_POOL._pool
    return list((pool._processes or {}) if pool is not None else ())


class MemoryWatch:
    """RSS of this process and of the extraction workers during the pass: peaks (VmHWM,
    reset at start), a 0.2 s sampler, and one reading per chunk boundary (before and after
    the pipeline's heap release)."""

    def __init__(self, trace_malloc: bool = False) -> None:
        self.samples: list[tuple[float, float]] = []  # (seconds, this process's RSS)
        self.chunks: list[tuple[float, float]] = []  # (RSS before release, after)
        self.trace_malloc = trace_malloc
        self.malloc_growth: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        t0 = time.perf_counter()
        while not self._stop.wait(0.2):
            self.samples.append((time.perf_counter() - t0, rss_mb()))

    def __enter__(self) -> MemoryWatch:
        from newswatch.pass_ import fetch as pipeline

        self.baseline = rss_mb()
        self.workers = extraction_worker_pids()
        self.worker_baseline = [rss_mb(p) for p in self.workers]
        self.peak_reset = reset_peak() and all(reset_peak(p) for p in self.workers)
        self._release = pipeline.release_memory
        if self.trace_malloc:
            import tracemalloc

            tracemalloc.start(8)
            self._snap = tracemalloc.take_snapshot()

        def release() -> None:
            before = rss_mb()
            self._release()
            self.chunks.append((before, rss_mb()))
            if self.trace_malloc:
                self._malloc_step()

        pipeline.release_memory = release
        self._thread.start()
        return self

    def _malloc_step(self) -> None:
        import tracemalloc

        snap = tracemalloc.take_snapshot()
        top = snap.compare_to(self._snap, "traceback")[:3]
        self.malloc_growth.append(
            "; ".join(f"{s.size_diff / 2**20:+.1f} MB at {s.traceback.format()[-1].strip()}"
                      for s in top)
        )  # fmt: skip

    def __exit__(self, *exc) -> None:
        from newswatch.pass_ import fetch as pipeline

        self._stop.set()
        self._thread.join()
        pipeline.release_memory = self._release
        if self.trace_malloc:
            import tracemalloc

            tracemalloc.stop()
        self.peak = peak_mb()
        self.worker_peaks = [peak_mb(p) for p in self.workers]
        self.end = rss_mb()


# -- the run ----------------------------------------------------------------------------


def start_prefect() -> None:
    """Start Prefect's ephemeral API with a trivial flow, so the pass does not pay for it."""
    from prefect import flow

    @flow(name="newswatch-bench-warmup")
    def warmup() -> int:
        return 1

    warmup()


def load_model(config_dir: Path):
    from newswatch.config import load_config
    from newswatch.runtime import embedder_for, scorer_for

    config = load_config(str(config_dir))
    embedder = embedder_for(config)
    scorer_for(config)  # fits the topics' detectors (encodes their examples)
    return embedder


def warm_up_extraction() -> None:
    from newswatch.runtime import EXTRACTION_POOL

    EXTRACTION_POOL.warm_up()


def run_pass(config_dir: Path, alerts: Path) -> tuple[dict, float]:
    from newswatch.flows.monitor import monitor_pass

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        summary, seconds = timed(lambda: monitor_pass(str(config_dir), alerts_jsonl=str(alerts)))
    return summary, seconds


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=500)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--quiet-feeds", type=int, default=100)
    ap.add_argument("--hosts", type=int, default=8, help="loopback hosts serving the site")
    ap.add_argument("--batch-size", type=int, default=None, help="override embedding.batch_size")
    ap.add_argument(
        "--trace-malloc", action="store_true", help="per chunk, where Python memory grew (slow)"
    )
    ap.add_argument("--no-quiet", action="store_true", help="skip the quiet passes")
    ap.add_argument(
        "--no-pure", action="store_true", help="skip both baselines (memory runs: no ratio)"
    )
    ap.add_argument(
        "--plain", action="store_true",
        help="run the passes as plain Python (`newswatch run` without a Prefect API), no flow",
    )  # fmt: skip
    ap.add_argument("--bare-model", help=argparse.SUPPRESS)  # the bare-model process
    ap.add_argument("--bare-backend", default=None, help="bare model's backend (default: pass's)")
    args = ap.parse_args(argv)
    if args.bare_model:
        bare_model(args.bare_model, args.bare_backend or "torch")
        return

    boot = process_start_seconds()
    n_hosts = max(1, min(args.hosts, args.feeds))
    quiet_feeds = 0 if args.no_quiet else args.quiet_feeds
    # the site builds in its own process while this one imports and starts Prefect
    with site_process(args.articles, n_hosts, args.feeds, quiet_feeds) as site:
        _, imports = timed(lambda: __import__("newswatch.flows.monitor"))
        workdir = Path(tempfile.mkdtemp(prefix="newswatch-bench-"))
        try:
            config_dir = write_config(workdir, site.sources, args.batch_size)
            _, prefect_start = (None, 0.0) if args.plain else timed(start_prefect)
            embedder, model_load = timed(lambda: load_model(config_dir))
            _, extract_warm = timed(warm_up_extraction)
            alerts = workdir / "alerts.jsonl"

            with recording(embedder, EncodeLog()) as log, MemoryWatch(args.trace_malloc) as mem:
                summary, pass_s = timed_pass(config_dir, alerts, args.plain)
            texts = log.texts()
            pure, bare = float("nan"), {}
            if not args.no_pure:
                _, pure = timed(lambda: embedder.encode(texts))
                bare = run_bare(
                    stored_texts(workdir / "bench.db"), workdir,
                    args.bare_backend or embedder.backend,
                )  # fmt: skip

            quiet, quiet_s, plain_s, processes = None, 0.0, 0.0, []
            quiet_sources = (site.sources + site.quiet_extra)[:quiet_feeds]
            if quiet_sources:
                write_config(workdir, quiet_sources, args.batch_size)
                quiet, quiet_s = timed_pass(config_dir, alerts, args.plain)
                _, plain_s = timed(lambda: plain_pass(config_dir))
                with_prefect = (False,) if args.plain else (False, True)
                processes = [(p, *quiet_process(config_dir, p)) for p in with_prefect]
            n_alerts = sum(1 for _ in alerts.open()) if alerts.exists() else 0
            report(
                args, summary, pass_s, quiet, quiet_s, len(quiet_sources),
                boot=boot, imports=imports, prefect_start=prefect_start, model_load=model_load,
                extract_warm=extract_warm, texts=texts, tokens=token_count(embedder, texts),
                log=log, pure=pure, bare=bare, plain_s=plain_s, processes=processes,
                mem=mem, site=site, n_alerts=n_alerts, batch_size=embedder.batch_size,
                backend=embedder.backend,
            )  # fmt: skip
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def plain_pass(config_dir: Path, alerts: Path | None = None) -> dict:
    """The pass as plain Python (`newswatch run` without a Prefect API), in this process."""
    from newswatch.config import load_config
    from newswatch.pass_ import run_pass as plain

    jsonl = str(alerts) if alerts else None
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return plain(load_config(str(config_dir)), alerts_jsonl=jsonl).as_dict()


def timed_pass(config_dir: Path, alerts: Path, plain: bool) -> tuple[dict, float]:
    if plain:
        return timed(lambda: plain_pass(config_dir, alerts))
    return run_pass(config_dir, alerts)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def report(args, summary, pass_s, quiet, quiet_s, n_quiet, **k) -> None:
    n_new = summary["new_articles"]
    t = summary["timings"]
    stages = ("poll", "fetch+extract", "embed", "detect", "store", "alert")
    print(
        f"throughput: {args.articles} articles behind {args.feeds} feeds on "
        f"{min(args.hosts, args.feeds)} hosts (served by process {k['site'].pid}); "
        f"load average at the end {load_average()}"
    )
    print(
        f"  startup (not in the pass): process start {k['boot']:.2f}s, imports "
        f"{k['imports']:.2f}s, Prefect ephemeral API {k['prefect_start']:.2f}s, "
        f"model load + topic fit {k['model_load']:.2f}s, extraction warm-up (imports, "
        f"language model, process pool) {k['extract_warm']:.2f}s"
    )
    print(
        f"  pass: {pass_s:.2f}s for {n_new} new articles = {n_new / pass_s:.1f} articles/s "
        f"end to end (updated {summary['updated_articles']}, fallbacks "
        f"{summary['extraction_fallbacks']}, alerts {summary['alerts_queued']} "
        f"+ {summary['followups_queued']} follow-ups, {k['n_alerts']} in the JSONL sink)"
    )
    print("  stages: " + ", ".join(f"{s} {t.get(s, 0.0):.2f}s" for s in stages))
    beside = summary.get("overlapped") or {}
    if beside:
        print(
            "  beside other stages (background, not in the sum; the stage above is the wait): "
            + ", ".join(f"{s} {v:.2f}s" for s, v in beside.items())
        )
    other = {s: v for s, v in t.items() if s not in stages}
    other["outside stages (Prefect flow/task runs, pass record)"] = pass_s - sum(t.values())
    if other:
        print("  other timings: " + ", ".join(f"{s} {v:.2f}s" for s, v in other.items()))
    n = max(n_new, 1)
    print(
        f"  encoded by the pass ({k['backend']}, batch {k['batch_size']}): "
        f"{len(k['texts'])} texts in {len(k['log'].calls)} model calls, {k['log'].seconds():.2f}s; "
        f"{len(k['texts']) / n:.2f} texts and {k['tokens'] / n:.0f} tokens per article; "
        f"passage vectors read by detectors {summary.get('passages_embedded', 0)}"
    )
    b = k["bare"]
    if "seconds" in b:
        per = max(b["texts"], 1)
        print(
            f"  BARE MODEL (separate process, {b['backend']}, batch 32): {b['texts']} stored "
            f"articles' title + text once = {b['windows']} windows of <= 256 tokens "
            f"({b['windows'] / per:.2f} per article, {b['tokens'] / per:.0f} tokens per article)"
            f" in {b['seconds']:.2f}s (model load {b['load']:.2f}s, not counted)"
        )
        print(
            f"  HEADLINE pass / bare model reading every text once = {pass_s:.2f} / "
            f"{b['seconds']:.2f} = {pass_s / max(b['seconds'], 1e-9):.2f}; "
            f"pass {n_new / pass_s:.2f} articles/s, bare model {b['texts'] / b['seconds']:.2f}"
        )
    elif b:
        print(f"  bare model process failed: {b.get('error')}")
    print(
        f"  pure encode of the pass's own texts (this process, after the pass): "
        f"{k['pure']:.2f}s; pass / that = {pass_s / max(k['pure'], 1e-9):.2f}"
    )
    if quiet is not None:
        how = "plain" if args.plain else "Prefect flow, as under serve"
        print(
            f"  quiet pass in this process ({how}): {quiet_s:.2f}s over "
            f"{n_quiet} feeds ({quiet['sources_not_modified']} answered 304, "
            f"{quiet['new_articles']} new); stages: "
            + ", ".join(f"{s} {v:.2f}s" for s, v in quiet["timings"].items())
            + f", outside stages {quiet_s - sum(quiet['timings'].values()):.2f}s; "
            f"as plain Python (no flow) {k['plain_s']:.2f}s"
        )
    for prefect, seconds, line in k["processes"]:
        how = "with Prefect (temporary API server)" if prefect else "without Prefect"
        print(f"  quiet one-shot `newswatch run` process, {how}: {seconds:.2f}s ({line})")
    m = k["mem"]
    peak_note = "" if m.peak_reset else " (VmHWM could not be reset: includes start-up)"
    print(
        f"  RSS of the newswatch process: {m.baseline:.0f} MB after model load and warm-up, "
        f"PEAK {m.peak:.0f} MB during the pass{peak_note}, {m.end:.0f} MB after it"
    )
    print(
        "  extraction workers (separate processes): "
        + ", ".join(
            f"{b:.0f} -> peak {p:.0f} MB"
            for b, p in zip(m.worker_baseline, m.worker_peaks, strict=True)
        )
        + f"; site server process (not newswatch) {k['site'].rss_mb:.0f} MB"
    )
    if m.chunks:
        print(
            "  RSS at chunk ends (before -> after heap release), MB: "
            + ", ".join(f"{a:.0f}->{b:.0f}" for a, b in m.chunks)
        )
    for i, line in enumerate(m.malloc_growth):
        print(f"  tracemalloc growth since pass start, after chunk {i + 1}: {line}")
    print("  summary: " + json.dumps({"timings": t, "texts_encoded": summary.get(
        "texts_encoded"), "passages_embedded": summary.get("passages_embedded")}))  # fmt: skip


if __name__ == "__main__":
    main()
