"""Alerts rendered as Slack messages: the edge where article text leaves us.

Everything article-derived (title, source, evidence, outlets) is untrusted: it
is whitespace-collapsed, stripped of control/bidi characters and escaped
(`&`, `<`, `>`) so `<!channel>`, `<@U123>` or `<http://evil|bank>` shows as
text and is never acted on. The only link is the article's own http(s) URL.
Slack's size limits are enforced here (graceful "…" truncation) and again by
`SlackMessage`'s validator, so an oversize payload cannot reach the API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from newswatch.models import Alert
from newswatch.notify.mrkdwn import (  # noqa: F401 - re-exported for callers
    ELLIPSIS,
    URL_LINK_MAX,
    clean,
    emphasize,
    escape,
    fit,
    link,
    mrkdwn_to_plain,
    safe_url,
    shorten,
    slack_date,
)

HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
TEXT_MAX = 40_000
FALLBACK_TITLE_MAX = 200  # notification previews show little; keep the fallback short
OUTLETS_SHOWN = 15

ALERT_EVENT = "newswatch_alert"
DIGEST_EVENT = "newswatch_digest"
NOTICE_EVENT = "newswatch_notice"


class SlackMessage(BaseModel):
    """A chat.postMessage payload, validated against Slack's limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    blocks: list[dict[str, Any]] = Field(default_factory=list, max_length=BLOCKS_MAX)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    reply_broadcast: bool | None = None  # a thread reply also shown in the channel
    unfurl_links: bool = False
    unfurl_media: bool = False

    @model_validator(mode="after")
    def _within_slack_limits(self) -> SlackMessage:
        for i, block in enumerate(self.blocks):
            kind = block.get("type")
            if kind == "header":
                n = len(block["text"]["text"])
                if not 1 <= n <= HEADER_MAX:
                    raise ValueError(f"block {i}: header text has {n} chars (1..{HEADER_MAX})")
            elif kind == "section":
                n = len(block["text"]["text"])
                if not 1 <= n <= SECTION_MAX:
                    raise ValueError(f"block {i}: section text has {n} chars (1..{SECTION_MAX})")
            elif kind == "context":
                elements = block["elements"]
                if not 1 <= len(elements) <= CONTEXT_ELEMENTS_MAX:
                    raise ValueError(f"block {i}: context has {len(elements)} elements")
                if any(not 1 <= len(e["text"]) <= SECTION_MAX for e in elements):
                    raise ValueError(f"block {i}: context element text out of bounds")
        return self

    def to_api(self) -> dict[str, Any]:
        """Keyword arguments for `WebClient.chat_postMessage`."""
        args = self.model_dump(exclude_none=True)
        if not args.get("blocks"):
            args.pop("blocks", None)
        return args

    @property
    def event_payload(self) -> dict[str, Any]:
        return (self.metadata or {}).get("event_payload") or {}


# -- text hygiene ------------------------------------------------------------------------------


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": shorten(clean(text), HEADER_MAX) or "newswatch"},
    }


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _context(*parts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": p} for p in parts if p]}


def _article_url(alert: Alert) -> str:
    article = alert.match.article
    return article.canonical_url if safe_url(article.canonical_url) else article.url


def _alert_metadata(alert: Alert) -> dict[str, Any]:
    return {
        "event_type": ALERT_EVENT,
        "event_payload": {
            "alert_id": alert.id,
            "topic": alert.topic_id,
            "url": _article_url(alert),
            "score": round(float(alert.match.score), 4),
        },
    }


def _outlets(names: Sequence[str]) -> str:
    shown = [escape(shorten(clean(n), 80)) for n in names[:OUTLETS_SHOWN] if clean(n)]
    more = len(names) - OUTLETS_SHOWN
    text = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return f"Also reported by: {text}" if shown else ""


def _scoring(alert: Alert) -> str:
    detector = escape(shorten(clean(alert.match.detector), 100)) or "unknown"
    return f"Score *{alert.match.score:.2f}* · detector `{detector}`"


def alert_message(alert: Alert) -> SlackMessage:
    """The Slack message for one alert; follow-ups in a story thread get a compact layout."""
    article = alert.match.article
    title = clean(article.title) or clean(article.url) or "(untitled)"
    source = clean(article.source) or "unknown source"
    topic = clean(alert.topic_name) or alert.topic_id
    url = _article_url(alert)
    published = slack_date(article.published)
    src = escape(shorten(source, 200))

    if alert.thread_ts:
        change = DEVELOPMENT_WORDS.get(alert.development, "")
        lead_in = f"*New development: {change}* — *{src}*" if change else (
            f"Also reported by *{src}*"
        )  # fmt: skip
        head = fit(lambda t: f"{lead_in}: {link(url, t)}", title, SECTION_MAX)
        details = [_scoring(alert)] + ([f"Published {published}"] if published else [])
        blocks = [_section(head)]
        evidence = clean(alert.match.evidence)
        if evidence:  # the outlet's own evidence line
            quoted = fit(lambda e: "> " + emphasize(e, alert.highlight), evidence, SECTION_MAX)
            blocks.append(_section(quoted))
        blocks.append(_context(" · ".join(details)))
        said = f"New development ({change})" if change else "Also reported by"
        fallback = f"[{topic}] {said} {source}: {shorten(title, FALLBACK_TITLE_MAX)}"
    else:
        byline = src + (f" · published {published}" if published else "")
        blocks = [
            _header(topic),
            _section(fit(lambda t: f"*{link(url, t)}*\n{byline}", title, SECTION_MAX)),
        ]
        evidence = clean(alert.match.evidence)
        if evidence:
            quoted = fit(lambda e: "> " + emphasize(e, alert.highlight), evidence, SECTION_MAX)
            blocks.append(_section(quoted))
        blocks.append(_context(_scoring(alert)))
        if outlets := _outlets(alert.other_sources):
            blocks.append(_context(fit(lambda _: outlets, outlets, SECTION_MAX)))
        fallback = f"[{topic}] {shorten(title, FALLBACK_TITLE_MAX)} — {shorten(source, 200)}"

    return SlackMessage(
        channel=alert.channel,
        text=fit(escape, fallback, TEXT_MAX),
        blocks=blocks,
        metadata=_alert_metadata(alert),
        thread_ts=alert.thread_ts,
        reply_broadcast=True if alert.thread_ts and alert.development else None,
    )


DEVELOPMENT_WORDS = {
    "cancelled": "cancelled",
    "postponed": "postponed",
    "imposed": "now imposed",
    "lifted": "lifted",
}


def event_lead_message(lead: Alert, outlets: Sequence[str], latest: str) -> SlackMessage:
    """The lead message of an event, re-rendered for chat.update: how many outlets have
    reported it and the latest development (or the latest write-up's headline)."""
    base = alert_message(lead)
    names = list(dict.fromkeys(clean(o) for o in outlets if clean(o)))
    count = f"*{len(names)} outlet{'s' if len(names) != 1 else ''}*: " + ", ".join(
        escape(shorten(n, 80)) for n in names[:OUTLETS_SHOWN]
    )
    if len(names) > OUTLETS_SHOWN:
        count += f" and {len(names) - OUTLETS_SHOWN} more"
    lines = [fit(lambda _: count, count, SECTION_MAX)]
    if clean(latest):
        lines.append(fit(lambda t: f"Latest: {escape(t)}", latest, SECTION_MAX))
    blocks = [b for b in base.blocks if not _is_outlets_context(b)]
    blocks += [_context(line) for line in lines]
    return base.model_copy(update={"blocks": blocks[:BLOCKS_MAX]})


def _is_outlets_context(block: dict[str, Any]) -> bool:
    elements = block.get("elements") or [{}]
    return block.get("type") == "context" and str(elements[0].get("text", "")).startswith(
        "Also reported by"
    )


def digest_id(alerts: Sequence[Alert]) -> str:
    """A stable id for a digest of these alerts, so `find_sent` can recognise it."""
    joined = "\n".join(sorted(a.id for a in alerts))
    return "digest:" + hashlib.sha256(joined.encode()).hexdigest()[:24]


def digest_message(topic_name: str, channel: str, alerts: Sequence[Alert]) -> SlackMessage:
    """One message listing a period's matches, packed into as few sections as fit."""
    if not alerts:
        raise ValueError("a digest needs at least one alert")
    topic = clean(topic_name) or alerts[0].topic_id
    # events, not articles: outlets' write-ups of one happening are one line
    grouped: dict[str, list[Alert]] = {}
    for alert in alerts:
        grouped.setdefault(alert.event_id or alert.id, []).append(alert)
    n = len(grouped)
    lines: list[str] = []
    for group in grouped.values():
        alert = group[0]
        article = alert.match.article
        title = shorten(clean(article.title) or "(untitled)", FALLBACK_TITLE_MAX)
        bits = [escape(shorten(clean(article.source) or "unknown source", 100))]
        if article.published:
            bits.append(slack_date(article.published))
        bits.append(f"score {alert.match.score:.2f}")
        others = {clean(a.match.article.source) for a in group[1:]} - {clean(article.source)}
        if len(group) > 1:
            bits.append(f"{len(group)} articles, {len(others) + 1} outlets")
        lines.append(f"• {link(_article_url(alert), title)} — {' · '.join(bits)}")

    blocks: list[dict[str, Any]] = [_header(f"{topic} — {n} new event{'s' if n != 1 else ''}")]
    max_sections = BLOCKS_MAX - 2  # header + a trailing "more" context
    current: list[str] = []
    shown = 0
    for line in lines:
        if current and len("\n".join([*current, line])) > SECTION_MAX:
            if len(blocks) - 1 >= max_sections - 1:
                break
            blocks.append(_section("\n".join(current)))
            current = []
        current.append(line[:SECTION_MAX])
        shown += 1
    if current:
        blocks.append(_section("\n".join(current)))
    if shown < n:
        blocks.append(_context(f"…and {n - shown} more not shown"))

    first = alerts[0].match.article
    fallback = f"[{topic}] {n} new event{'s' if n != 1 else ''}: " + shorten(
        clean(first.title) or "(untitled)", FALLBACK_TITLE_MAX
    )
    if n > 1:
        fallback += f" and {n - 1} more"
    return SlackMessage(
        channel=channel,
        text=fit(escape, fallback, TEXT_MAX),
        blocks=blocks,
        metadata={
            "event_type": DIGEST_EVENT,
            "event_payload": {
                "alert_id": digest_id(alerts),
                "topic": alerts[0].topic_id,
                "count": n,
                "articles": len(alerts),
            },
        },
    )


def notice_message(channel: str, text: str) -> SlackMessage:
    """An operational notice (e.g. a source has been failing), escaped like article text."""
    lines = [clean(line) for line in (text or "").splitlines()]
    body = "\n".join(line for line in lines if line) or "(empty notice)"
    notice_id = "notice:" + hashlib.sha256(body.encode()).hexdigest()[:24]
    return SlackMessage(
        channel=channel,
        text=fit(escape, "[newswatch] " + shorten(clean(body), 300), TEXT_MAX),
        blocks=[_section(fit(lambda b: ":warning: " + escape(b), body, SECTION_MAX))],
        metadata={"event_type": NOTICE_EVENT, "event_payload": {"alert_id": notice_id}},
    )


# -- plain-text rendering (stdout, JSONL) ------------------------------------------------------


def plain_text(message: SlackMessage) -> str:
    """A readable plain-text rendering of the blocks (or the fallback text)."""
    if not message.blocks:
        return mrkdwn_to_plain(message.text)
    lines: list[str] = []
    for block in message.blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            lines += [title, "=" * min(len(title), 60)]
        elif kind == "section":
            lines += mrkdwn_to_plain(block["text"]["text"]).splitlines()
        elif kind == "context":
            lines.append("  ".join(mrkdwn_to_plain(e["text"]) for e in block["elements"]))
    return "\n".join(lines)
