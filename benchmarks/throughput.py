"""Throughput of one monitoring pass against the cost of the embedding model alone.

Serves N article pages behind M RSS feeds on loopback (real scrapinghub pages from
the shared data, each made a distinct article; generated pages when the data is
absent), runs ONE real pass (`flows.monitor.monitor_pass`) into a fresh SQLite store
with alerts to a JSONL file, then encodes exactly the passages that pass embedded,
alone, in the same process. Headline: pass time / pure-encode time. Then a quiet
pass over `--quiet-feeds` feeds (each answers 304 or lists only seen items).

Process start, Prefect's ephemeral API start and model load are timed and printed
separately: the targets are about the pass, beyond process start.

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
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from email.utils import format_datetime  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="newswatch-bench-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
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
    """Every encode call of the pass, by calling module (pipeline passages vs detectors)."""

    calls: list[tuple[str, list[str], float]] = field(default_factory=list)

    def texts(self, module_prefix: str) -> list[str]:
        return [t for m, texts, _ in self.calls if m.startswith(module_prefix) for t in texts]

    def seconds(self, module_prefix: str) -> float:
        return sum(s for m, _, s in self.calls if m.startswith(module_prefix))


@contextlib.contextmanager
def recording(embedder, log: EncodeLog):
    """Wrap the process-wide embedder's encode so the pass's inputs can be re-encoded alone."""
    original = embedder.encode

    def encode(texts, *args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__", "?")
        t0 = time.perf_counter()
        out = original(texts, *args, **kwargs)
        log.calls.append((caller, list(texts), time.perf_counter() - t0))
        return out

    embedder.encode = encode
    try:
        yield log
    finally:
        del embedder.encode


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_rss_mb() -> tuple[float, float]:
    """(this process, largest waited-for child) peak RSS in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def extraction_workers_peak_mb() -> list[float]:
    """Peak RSS (VmHWM) of the live extraction pool workers, which getrusage does not see."""
    from newswatch import pipeline

    pool = pipeline._EXTRACT_POOL
    out = []
    for pid in list((pool._processes or {}) if pool is not None else ()):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out.append(int(line.split()[1]) / 1024)
    return out


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    from newswatch.pipeline import warm_up_extraction as warm

    warm()


def run_pass(config_dir: Path, alerts: Path) -> tuple[dict, float]:
    from flows.monitor import monitor_pass

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
    args = ap.parse_args(argv)

    boot = process_start_seconds()
    _, imports = timed(lambda: __import__("flows.monitor"))
    workdir = Path(tempfile.mkdtemp(prefix="newswatch-bench-"))
    site = build_site(args.articles, max(1, min(args.hosts, args.feeds)))
    try:
        sources = add_feeds(site, args.feeds, "feed")
        config_dir = write_config(workdir, sources, args.batch_size)
        _, prefect_start = timed(start_prefect)
        embedder, model_load = timed(lambda: load_model(config_dir))
        _, extract_warm = timed(warm_up_extraction)
        rss_before = current_rss_mb()
        alerts = workdir / "alerts.jsonl"

        with recording(embedder, EncodeLog()) as log:
            summary, pass_s = run_pass(config_dir, alerts)
        passages = log.texts("newswatch")
        sentences = log.texts("detectors")
        _, pure_passages = timed(lambda: embedder.encode(passages))
        _, pure_sentences = timed(lambda: embedder.encode(sentences))

        quiet_extra = add_feeds(site, max(0, args.quiet_feeds - args.feeds), "quiet")
        quiet_sources = (sources + quiet_extra)[: args.quiet_feeds]
        write_config(workdir, quiet_sources, args.batch_size)
        quiet, quiet_s = run_pass(config_dir, alerts)
        n_alerts = sum(1 for _ in alerts.open()) if alerts.exists() else 0
        report(
            args, summary, pass_s, quiet, quiet_s, len(quiet_sources),
            boot=boot, imports=imports, prefect_start=prefect_start, model_load=model_load,
            extract_warm=extract_warm,
            passages=passages, sentences=sentences, log=log,
            pure_passages=pure_passages, pure_sentences=pure_sentences,
            rss_before=rss_before, n_alerts=n_alerts, batch_size=embedder.batch_size,
        )  # fmt: skip
    finally:
        site.close()
        shutil.rmtree(workdir, ignore_errors=True)


def report(args, summary, pass_s, quiet, quiet_s, n_quiet, **k) -> None:
    n_new = summary["new_articles"]
    t = summary["timings"]
    stages = ("poll", "fetch+extract", "embed", "detect", "store", "alert")
    me, kids = peak_rss_mb()
    tokens = sum(len(p.split()) for p in k["passages"])
    print(f"throughput: {args.articles} articles behind {args.feeds} feeds on {args.hosts} hosts")
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
    other = {s: v for s, v in t.items() if s not in stages}
    other["outside stages (Prefect flow/task runs, pass record)"] = pass_s - sum(t.values())
    if other:
        print("  other timings: " + ", ".join(f"{s} {v:.2f}s" for s, v in other.items()))
    print(
        f"  model inside the pass: passages {k['log'].seconds('newswatch'):.2f}s, "
        f"detector sentences {k['log'].seconds('detectors'):.2f}s"
    )
    print(
        f"  pure encode (same process, after the pass, batch {k['batch_size']}): "
        f"{len(k['passages'])} passages (~{tokens} words) {k['pure_passages']:.2f}s "
        f"= {len(k['passages']) / max(k['pure_passages'], 1e-9):.1f} passages/s; "
        f"{len(k['sentences'])} detector sentences {k['pure_sentences']:.2f}s"
    )
    pure = k["pure_passages"]
    both = pure + k["pure_sentences"]
    print(
        f"  HEADLINE end-to-end / pure-encode = {pass_s:.2f} / {pure:.2f} = "
        f"{pass_s / max(pure, 1e-9):.2f}  (vs passages + detector sentences: "
        f"{pass_s / max(both, 1e-9):.2f})"
    )
    print(
        f"  quiet pass: {quiet_s:.2f}s over {n_quiet} feeds "
        f"({quiet['sources_not_modified']} answered 304, {quiet['new_articles']} new); "
        "stages: "
        + ", ".join(f"{s} {v:.2f}s" for s, v in quiet["timings"].items())
        + f", outside stages {quiet_s - sum(quiet['timings'].values()):.2f}s"
    )
    print(
        f"  peak RSS: {me:.0f} MB (this process; {k['rss_before']:.0f} MB after model load), "
        f"children {kids:.0f} MB, extraction workers "
        + ", ".join(f"{w:.0f} MB" for w in extraction_workers_peak_mb())
    )
    print("  summary: " + json.dumps({"timings": t, "passages_embedded": summary.get(
        "passages_embedded")}))  # fmt: skip


if __name__ == "__main__":
    main()
