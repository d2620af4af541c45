"""A pass reads each text once: one model call per chunk, nothing encoded twice, the same
decisions as encoding per detector; and a quiet pass loads neither the model nor spaCy
nor the extraction pool."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from newsroom import serve, write_config

from newswatch.config import load_topics
from newswatch.demo import demo_articles
from newswatch.embed import get_embedder
from newswatch.models import Article
from newswatch.pass_.analyse import analyse
from newswatch.pass_.stats import PassStats
from newswatch.schema import DEFAULT_CONFIG_DIR
from newswatch.scoring import TopicScorer

TOPICS = ("leader-foreign-visit", "sanctions")


@pytest.fixture(scope="module")
def scorer() -> TopicScorer:
    from conftest import ROOT

    problems: list[str] = []
    topics = [t for t in load_topics(ROOT / DEFAULT_CONFIG_DIR, problems) if t.id in TOPICS]
    assert problems == []
    return TopicScorer(topics, get_embedder())


def _articles() -> list[Article]:
    out = []
    for a in demo_articles():
        text = "\n\n".join(a["paragraphs"])
        url = f"http://news.test/{a['slug']}"
        out.append(Article(url, url, a.get("outlet", "demo"), a["title"], text))
    # a second outlet running the first story word for word: its texts are not read again
    first = out[0]
    out.append(Article("http://copy.test/1", "http://copy.test/1", "copy", first.title, first.text))
    return out


def test_a_chunk_is_one_model_call_reading_each_text_once_with_the_same_decisions(scorer):
    embedder = scorer.embedder
    calls: list[list[str]] = []
    original = embedder.model.encode

    def counting(texts, *args, **kwargs):
        calls.append(list(texts))
        return original(texts, *args, **kwargs)

    articles = _articles()
    stats = PassStats()
    embedder.model.encode = counting
    try:
        analysed = analyse(articles, scorer, embedder, stats)
    finally:
        del embedder.model.encode

    # stories, passages and the detectors' sentences: one call; then, only when something
    # matched, one more for the matches' event signatures (headline + evidence sentence)
    texts, *signature_calls = calls
    assert len(signature_calls) == 1 and len(signature_calls[0]) <= len(articles)
    every = [t for call in calls for t in call]
    assert len(every) == len(set(every)) == stats.texts_encoded  # no text read twice
    docs = scorer.documents([(a.canonical_url, a.title, a.text) for a in articles])
    assert {d.passages[0] for d in docs} <= set(texts)  # one story text per article
    assert stats.passages_embedded == 0  # hybrid topics read no passage vectors

    # the same decisions as each detector encoding its own texts, without the shared call
    reference = scorer.score(docs, scorer.embed(docs))
    for item, ref in zip(analysed, reference, strict=True):
        for topic in TOPICS:
            assert item.decisions[topic].matched == ref[topic].matched
            assert item.decisions[topic].score == pytest.approx(ref[topic].score, abs=1e-5)
    assert any(item.decisions["leader-foreign-visit"].matched for item in analysed)
    # the story vector is the title + lead's, so the word-for-word copy lands on it exactly
    lead = embedder.encode([docs[0].passages[0]])[0]
    assert np.allclose(analysed[0].vector, lead, atol=1e-5)
    assert np.allclose(analysed[-1].vector, analysed[0].vector)


def test_chunk_cache_encodes_a_repeated_text_once_and_returns_it_in_order(embedder):
    calls: list[list[str]] = []
    original = embedder.model.encode

    def counting(texts, *args, **kwargs):
        calls.append(list(texts))
        return original(texts, *args, **kwargs)

    embedder.model.encode = counting
    try:
        plain = embedder.encode(["a visit", "sanctions", "a visit"])
        with embedder.chunk_cache() as cache:
            embedder.encode(["a visit", "sanctions"])
            again = embedder.encode(["sanctions", "a visit", "sanctions"])
    finally:
        del embedder.model.encode
    assert calls == [["a visit", "sanctions"], ["a visit", "sanctions"]]
    assert cache.encoded == 2
    assert np.allclose(plain[0], plain[2])
    assert np.allclose(again, plain[[1, 0, 1]], atol=1e-6)


QUIET = """
import json, sys
from newswatch.config import load_config
from newswatch.pass_ import run_pass
from newswatch.runtime import EXTRACTION_POOL
stats = run_pass(load_config(sys.argv[1]))
print(json.dumps({"new": stats.new_articles, "polled": stats.sources_polled,
                  "loaded": sorted(m for m in ("torch", "sentence_transformers", "spacy",
                  "sklearn", "trafilatura") if m in sys.modules),
                  "pool": EXTRACTION_POOL.started}))
"""


def test_a_quiet_pass_loads_no_model_no_spacy_and_no_process_pool(site, tmp_path):
    feed = serve(site, [], feed_path="/empty.xml")  # a feed with nothing in it
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Quiet Wire", "url": feed, "kind": "feed"}],
    )
    out = subprocess.run(
        [sys.executable, "-c", QUIET, str(cfg)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"new": 0, "polled": 1, "loaded": [], "pool": False}


def test_run_uses_prefect_only_when_an_api_is_configured(tmp_path, monkeypatch):
    from newswatch.cli import prefect_api_configured

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert not prefect_api_configured()  # no profiles file: Prefect would start its own
    (tmp_path / "profiles.toml").write_text(
        'active = "prod"\n[profiles.prod]\nPREFECT_API_URL = "http://prefect:4200/api"\n'
        "[profiles.local]\n"
    )
    assert prefect_api_configured()
    monkeypatch.setenv("PREFECT_PROFILE", "local")
    assert not prefect_api_configured()
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert prefect_api_configured()
