"""Topic files: the shipped ones load, and mistakes are reported with file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from newswatch.config import load_config, load_topics
from newswatch.schema import ConfigError

GOOD = """
topics:
  - id: ok-topic
    name: OK
    description: something happens
    examples: {file: ex.txt}
    counter_examples: [something else happens]
"""


def inline(extra: str = "") -> str:
    """GOOD with its examples inline (no file to read), plus `extra` topic lines."""
    return GOOD.replace("{file: ex.txt}", "[one]") + extra


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_for(tmp: Path) -> list[str]:
    problems: list[str] = []
    load_topics(tmp, problems)
    return problems


def test_shipped_topics_load_with_examples_and_counter_examples():
    problems: list[str] = []
    topics = {t.id: t for t in load_topics(ROOT / "config", problems)}
    assert problems == []
    required = {"leader-foreign-visit", "sanctions", "missile-nuclear-test", "coup", "mass-unrest"}
    assert required <= set(topics)
    for t in topics.values():
        assert len(t.examples) >= 10 and len(t.counter_examples) >= 10, t.id
        assert not any(line.startswith("#") for line in t.examples), t.id


def test_example_file_lines_are_read_relative_to_the_topic_file(tmp_path):
    write(tmp_path, "topics.yaml", GOOD)
    write(tmp_path, "ex.txt", "# comment\nfirst example\n\nsecond example\n")
    problems: list[str] = []
    (topic,) = load_topics(tmp_path, problems)
    assert problems == []
    assert topic.examples == ("first example", "second example")


def test_missing_example_file_names_topic_file_and_field(tmp_path):
    path = write(tmp_path, "topics.yaml", GOOD)
    (msg,) = problems_for(tmp_path)
    assert str(path) in msg and "(ok-topic).examples.file" in msg and "ex.txt" in msg


def test_bad_threshold_names_file_topic_and_field(tmp_path):
    path = write(
        tmp_path,
        "topics/bad.yaml",
        inline("    threshold: 1.5\n"),
    )
    (msg,) = problems_for(tmp_path)
    assert msg.startswith(str(path)) and "topics[0] (ok-topic).threshold" in msg


def test_unknown_detector_is_listed_with_known_kinds(tmp_path):
    path = write(
        tmp_path,
        "topics.yaml",
        inline("    detectors: [magic]\n"),
    )
    (msg,) = problems_for(tmp_path)
    assert str(path) in msg and ".detectors" in msg and "'magic'" in msg and "hybrid" in msg


def test_mistyped_detector_option_is_named_with_the_known_ones(tmp_path):
    path = write(
        tmp_path,
        "topics.yaml",
        inline("    detectors: [hybrid]\n    detector_options: {hybrid: {lead_bonsu: 0.2}}\n"),
    )
    (msg,) = problems_for(tmp_path)
    assert str(path) in msg and "detector_options.hybrid.lead_bonsu" in msg
    assert "lead_bonus" in msg  # the known options are listed


def test_a_known_person_without_a_title_is_named(tmp_path):
    path = write(
        tmp_path,
        "topics.yaml",
        inline("    known_people: [Russian President Vladimir Putin, Vladimir Putin]\n"),
    )
    (msg,) = problems_for(tmp_path)
    assert str(path) in msg and "(ok-topic).known_people" in msg and "'Vladimir Putin'" in msg


def test_duplicate_ids_across_files_name_both(tmp_path):
    first = write(tmp_path, "topics.yaml", inline())
    second = write(tmp_path, "topics/more.yaml", inline())
    (msg,) = problems_for(tmp_path)
    assert str(second) in msg and ".id" in msg and str(first) in msg


def test_unknown_field_is_rejected_with_its_name(tmp_path):
    path = write(tmp_path, "topics.yaml", inline("    treshold: 1\n"))
    (msg,) = problems_for(tmp_path)
    assert str(path) in msg and "treshold" in msg


def test_load_config_reports_topic_problems(tmp_path):
    write(
        tmp_path,
        "sources.yaml",
        'sources:\n  - {name: x, url: "https://example.org/feed", kind: feed}\n',
    )
    path = write(tmp_path, "topics.yaml", inline("    threshold: -1\n"))
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert any(str(path) in p and "threshold" in p for p in err.value.problems)
