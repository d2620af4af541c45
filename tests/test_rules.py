"""Golden decisions of the shipped topics' guard words (no model needed)."""

from __future__ import annotations

from pathlib import Path

from newswatch.config import load_topics
from newswatch.detectors.lexical import Guards

ROOT = Path(__file__).resolve().parents[1]


def test_mass_unrest_gate_reads_protests_not_protestants():
    problems: list[str] = []
    topic = {t.id: t for t in load_topics(ROOT / "config", problems)}["mass-unrest"]
    guards = Guards(topic)
    assert not guards.sentence_ok("Protestant and Catholic leaders met in Belfast on Monday.")
    assert guards.sentence_ok("Thousands of protesters marched on parliament.")
    assert guards.sentence_ok("Police fired on crowds protesting against the fuel price rise.")
