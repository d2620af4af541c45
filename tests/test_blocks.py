"""Block Kit rendering: golden payload, escaping of hostile article text, Slack's limits.

Regenerate the golden files after an intended layout change with
`NEWSWATCH_UPDATE_GOLDEN=1 pytest tests/test_blocks.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from newswatch.models import Alert, Article, Match
from newswatch.notify.blocks import (
    BLOCKS_MAX,
    HEADER_MAX,
    SECTION_MAX,
    TEXT_MAX,
    SlackMessage,
    alert_message,
    digest_id,
    digest_message,
    emphasize,
    notice_message,
    plain_text,
    safe_url,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("NEWSWATCH_UPDATE_GOLDEN") == "1"

KIM_TEXT = (
    "North Korean leader Kim Jong Un has confirmed he will attend celebrations in Russia in "
    "May, the Kremlin said on Friday, in what would be his first trip abroad since 2023. "
    "Kremlin spokesman Dmitry Peskov told reporters that preparations for the visit were "
    "under way."
)


def kim_alert(**changes) -> Alert:
    article = Article(
        url="https://news.example.com/world/kim-russia-visit?utm_source=rss&ref=feed",
        canonical_url="https://news.example.com/world/kim-russia-visit",
        source="Example Wire",
        title="Kim Jong Un to attend Victory Day celebrations in Moscow, Kremlin says",
        text=KIM_TEXT,
        published=datetime(2025, 4, 18, 6, 12, tzinfo=UTC),
        language="en",
    )
    match = Match(
        article=article,
        topic_id="leader-foreign-visit",
        score=0.8312,
        evidence=(
            "North Korean leader Kim Jong Un has confirmed he will attend celebrations in "
            "Russia in May, the Kremlin said on Friday."
        ),
        detector="semantic",
    )
    alert = Alert(
        id="a-7f3c2e",
        topic_id="leader-foreign-visit",
        topic_name="Leader foreign visit",
        story_id="s-41",
        match=match,
        channel="#alerts",
        other_sources=("Reuters", "Yonhap"),
        highlight=("Kim Jong Un", "attend", "Russia"),
    )
    return replace(alert, **changes) if changes else alert


def with_article(alert: Alert, **changes) -> Alert:
    article = replace(alert.match.article, **changes)
    return replace(alert, match=replace(alert.match, article=article))


def with_match(alert: Alert, **changes) -> Alert:
    return replace(alert, match=replace(alert.match, **changes))


def all_mrkdwn(message: SlackMessage) -> list[str]:
    out = [message.text]
    for block in message.blocks:
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out.extend(e["text"] for e in block["elements"])
    return out


def assert_within_limits(message: SlackMessage) -> None:
    assert len(message.text) <= TEXT_MAX
    assert 1 <= len(message.blocks) <= BLOCKS_MAX
    for block in message.blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_MAX
        elif block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_MAX


def check_golden(name: str, message: SlackMessage) -> None:
    path = GOLDEN / name
    actual = json.dumps(message.model_dump(), indent=2, ensure_ascii=False) + "\n"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {path} was missing; written, review and re-run")
    assert json.loads(actual) == json.loads(path.read_text(encoding="utf-8")), (
        f"{name} differs; set NEWSWATCH_UPDATE_GOLDEN=1 to regenerate if intended"
    )


def test_alert_payload_matches_golden():
    message = alert_message(kim_alert())
    assert_within_limits(message)
    check_golden("alert_leader_visit.json", message)


def test_followup_payload_matches_golden():
    followup = with_article(kim_alert(thread_ts="1713420000.000100"), source="Yonhap")
    message = alert_message(followup)
    assert message.thread_ts == "1713420000.000100"
    assert message.text.startswith("[Leader foreign visit] Also reported by Yonhap:")
    assert not any(b["type"] == "header" for b in message.blocks)
    check_golden("alert_followup.json", message)


def test_alert_layout_essentials():
    message = alert_message(kim_alert())
    header, title, evidence, scoring, outlets = message.blocks
    assert header["text"] == {"type": "plain_text", "text": "Leader foreign visit"}
    assert title["text"]["text"].startswith(
        "*<https://news.example.com/world/kim-russia-visit|Kim Jong Un to attend"
    )
    assert "Example Wire" in title["text"]["text"]
    assert evidence["text"]["text"].startswith("> North Korean leader *Kim Jong Un* has")
    assert "*attend*" in evidence["text"]["text"] and "*Russia*" in evidence["text"]["text"]
    assert "0.83" in scoring["elements"][0]["text"]
    assert "semantic" in scoring["elements"][0]["text"]
    assert outlets["elements"][0]["text"] == "Also reported by: Reuters, Yonhap"
    assert message.text == (
        "[Leader foreign visit] Kim Jong Un to attend Victory Day celebrations in Moscow, "
        "Kremlin says — Example Wire"
    )
    assert message.metadata == {
        "event_type": "newswatch_alert",
        "event_payload": {
            "alert_id": "a-7f3c2e",
            "topic": "leader-foreign-visit",
            "url": "https://news.example.com/world/kim-russia-visit",
            "score": 0.8312,
        },
    }
    assert message.unfurl_links is False


def test_no_outlets_no_outlets_line():
    message = alert_message(kim_alert(other_sources=()))
    assert not any("Also reported" in t for t in all_mrkdwn(message))


HOSTILE = [
    "<!channel> urgent",
    "<!here|here> <!everyone>",
    "<@U123> please look",
    "<#C999|general>",
    "<http://evil.example|Your bank> login",
    "Tom & Jerry > Spike < Tyke",
    "&lt;!channel&gt; pre-escaped",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_article_text_is_escaped_everywhere(hostile):
    alert = with_article(kim_alert(other_sources=(hostile,)), title=hostile, source=hostile)
    alert = with_match(alert, evidence=f"{hostile} said Kim Jong Un", detector=hostile)
    message = alert_message(alert)
    for text in all_mrkdwn(message):
        # The only control sequences left are ours: the article link and the date.
        stripped = text.replace("<https://news.example.com/world/kim-russia-visit|", "")
        stripped = stripped.split("<!date^")[0]
        assert "<!" not in stripped and "<@" not in stripped and "<#" not in stripped
        assert "<http" not in stripped
        assert "&lt;" in text or "&amp;" in text or "<" not in hostile
    # The reader still sees the original characters (Slack unescapes on display).
    assert hostile in plain_text(message)


def test_only_http_urls_are_linked_and_delimiters_are_encoded():
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("file:///etc/passwd") is None
    assert safe_url("https://x.example/a|b>c<d e?x=1&y=2") == (
        "https://x.example/a%7Cb%3Ec%3Cd%20e?x=1&amp;y=2"
    )
    message = alert_message(with_article(kim_alert(), url="javascript:alert(1)", canonical_url=""))
    assert "javascript" not in message.blocks[1]["text"]["text"]
    assert message.blocks[1]["text"]["text"].startswith("*Kim Jong Un to attend")


def test_highlight_is_case_insensitive_whole_word_and_escape_safe():
    assert emphasize("kim met KIM; Kimchi & amp", ["Kim", "amp"]) == (
        "*kim* met *KIM*; Kimchi &amp; *amp*"
    )
    assert emphasize("a <b> c", ["b"]) == "a &lt;*b*&gt; c"
    assert emphasize("Kim  Jong\nUn visits", ["kim jong un"]) == "*Kim  Jong\nUn* visits"
    assert emphasize("no terms <here>", []) == "no terms &lt;here&gt;"


def test_huge_evidence_and_long_title_are_truncated_within_limits():
    alert = with_article(kim_alert(), title="Kim visit & talks " * 17)  # ~300 chars
    alert = with_match(alert, evidence=("Kim Jong Un will attend <celebrations> & more. " * 220))
    assert len(alert.match.article.title) >= 300 and len(alert.match.evidence) >= 10_000
    message = alert_message(alert)
    assert_within_limits(message)
    evidence = message.blocks[2]["text"]["text"]
    assert evidence.endswith("…") and len(evidence) > SECTION_MAX - 100
    assert "&lt;" in evidence and "*Kim Jong Un*" in evidence
    # no escape sequence or bold cut in half at the end
    assert not evidence[:-1].rstrip().endswith(("&", "&lt", "&amp", "*"))
    SlackMessage.model_validate(message.model_dump())


def test_huge_topic_name_and_many_outlets_are_truncated():
    outlets = tuple(f"Outlet {i} <&>" for i in range(500))
    message = alert_message(kim_alert(topic_name="T" * 400, other_sources=outlets))
    assert_within_limits(message)
    assert message.blocks[0]["text"]["text"].endswith("…")
    assert "and 485 more" in message.blocks[-1]["elements"][0]["text"]


def test_slack_message_rejects_oversize_and_unknown_fields():
    with pytest.raises(ValidationError):
        SlackMessage(channel="#a", text="x", blocks=[{"type": "divider"}] * 51)
    with pytest.raises(ValidationError):
        SlackMessage(
            channel="#a",
            text="x",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        )
    with pytest.raises(ValidationError):
        SlackMessage(channel="#a", text="x", icon_emoji=":boom:")


def test_digest_lists_matches_within_limits():
    alerts = [
        with_article(
            kim_alert(id=f"a-{i}"), title=f"Story {i} <!channel> " + "x" * 150, source=f"S{i}"
        )
        for i in range(800)
    ]
    message = digest_message("Leader foreign visit", "#digest", alerts)
    assert_within_limits(message)
    assert message.blocks[0]["text"]["text"] == "Leader foreign visit — 800 new events"
    assert "more not shown" in message.blocks[-1]["elements"][0]["text"]
    assert "<!channel>" not in json.dumps(message.blocks)
    assert message.text.startswith("[Leader foreign visit] 800 new events: Story 0")
    assert message.metadata["event_payload"]["alert_id"] == digest_id(list(reversed(alerts)))
    small = digest_message("Leader foreign visit", "#digest", alerts[:2])
    assert len(small.blocks) == 2 and small.blocks[1]["text"]["text"].count("•") == 2


def test_notice_is_escaped():
    message = notice_message("#ops", "Source <!here> failed 3 times:\nHTTP 503 & timeout")
    assert message.blocks[0]["text"]["text"] == (
        ":warning: Source &lt;!here&gt; failed 3 times:\nHTTP 503 &amp; timeout"
    )
    assert message.text.startswith("[newswatch] Source &lt;!here&gt;")


def test_plain_text_rendering_is_readable():
    text = plain_text(alert_message(kim_alert()))
    assert "Leader foreign visit" in text
    assert (
        "Kim Jong Un to attend Victory Day celebrations in Moscow, Kremlin says "
        "(https://news.example.com/world/kim-russia-visit)" in text
    )
    assert "2025-04-18 06:12 UTC" in text
    assert "> North Korean leader Kim Jong Un has confirmed" in text
