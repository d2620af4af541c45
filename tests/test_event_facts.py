"""What a write-up says about its happening: stage, set-for date, developments."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from newswatch.events import EventFacts, Member, default_rule, development, stage_of
from newswatch.events.facts import event_date

JAN_28 = datetime(2015, 1, 28, 8, tzinfo=UTC)


def test_stages_read_from_headline_and_evidence():
    assert stage_of("Kim cancels planned trip to Moscow victory parade") == "cancelled"
    assert stage_of("EU threatens new sanctions on Russia") == "threatened"
    assert stage_of("U.S. imposes sanctions on Iranian shipping firms") == "imposed"
    assert stage_of("Modi arrives in Tokyo for summit talks") == "held"
    assert stage_of("Kim Jong Un to make first trip abroad") == ""


def test_the_date_a_happening_is_set_for():
    assert event_date("will travel to Moscow in May", JAN_28) == datetime(2015, 5, 15, tzinfo=UTC)
    assert event_date("from April 29", datetime(1987, 3, 26, tzinfo=UTC)).day == 29
    assert event_date("the U.S. may impose tariffs", JAN_28) == JAN_28  # "may" is not May
    assert event_date("a visit in January", datetime(2015, 11, 2, tzinfo=UTC)).year == 2016


def test_a_cancellation_or_an_imposition_is_a_development_a_repeat_is_not():
    assert development({"planned"}, "cancelled") == "cancelled"
    assert development({"threatened"}, "imposed") == "imposed"
    assert development({"imposed"}, "imposed") == ""
    assert development({"planned"}, "held") == ""


def test_the_shipped_rule_keeps_different_leaders_and_a_later_trip_apart():
    rule = default_rule()
    # two outlets' wording of one kind of story: related, not copies (cosine 0.7)
    v = np.array([1, 0], np.float32)
    w = np.array([0.7, np.sqrt(1 - 0.49)], np.float32)
    kim = EventFacts(("Kim",), ("KP", "RU"), "planned", JAN_28, JAN_28)
    modi = EventFacts(("Modi",), ("IN", "JP"), "held", JAN_28, JAN_28)
    later = datetime(2015, 3, 5, tzinfo=UTC)
    modi_march = EventFacts(("Modi",), ("IN", "JP"), "held", later, later)
    assert rule.assign(modi, w, "s2", [Member("e-kim", "s1", kim, v)])[0] is None
    assert rule.assign(modi_march, w, "s3", [Member("e-modi", "s2", modi, v)])[0] is None
    same = EventFacts(("Kim",), ("KP", "RU"), "planned", JAN_28, JAN_28)
    assert rule.assign(same, w, "s4", [Member("e-kim", "s1", kim, v)])[0] == "e-kim"


def test_an_implausible_publication_date_falls_back_to_the_fetch_time():
    from newswatch.events import facts_of
    from newswatch.models import Article, Decision, Evidence

    now = datetime(2026, 12, 2, tzinfo=UTC)
    fetched = datetime(2026, 12, 1, 8, tzinfo=UTC)
    decision = Decision(0.9, True, Evidence("President Ruto arrived in Kampala on Monday."))
    for claimed in (datetime(1, 1, 1), datetime(9999, 12, 31, tzinfo=UTC)):
        article = Article("u", "u", "s", "Ruto in Kampala", "", claimed, fetched_at=fetched)
        assert facts_of(article, decision, now=now).at == fetched
    real = datetime(1987, 4, 17, tzinfo=UTC)  # the Reuters corpus: old but plausible
    article = Article("u", "u", "s", "Ruto in Kampala", "", real, fetched_at=fetched)
    assert facts_of(article, decision, now=now).at == real
