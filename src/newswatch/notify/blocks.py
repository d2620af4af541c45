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
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from newswatch.models import Alert

HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
TEXT_MAX = 40_000
FALLBACK_TITLE_MAX = 200  # notification previews show little; keep the fallback short
URL_LINK_MAX = 2000  # longer URLs are not linked (they would crowd out the title)
OUTLETS_SHOWN = 15
ELLIPSIS = "…"

ALERT_EVENT = "newswatch_alert"
DIGEST_EVENT = "newswatch_digest"
NOTICE_EVENT = "newswatch_notice"

_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"


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


def clean(text: str | None) -> str:
    """One line of displayable text: no control or bidi-override characters."""
    return " ".join(_UNSAFE_CHARS.sub("", text or "").split())


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: the three characters that start control sequences."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` chars at a word boundary when one is near, ending in "…"."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit * 0.7:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def fit(render: Callable[[str], str], raw: str, limit: int) -> str:
    """Render `raw`, shortening it just enough that the rendering fits in `limit`.

    Escaping and bolding grow text unpredictably, so the cut is searched for on
    the raw text (never cutting an `&amp;` or a `*bold*` in half).
    """
    out = render(raw)
    if len(out) <= limit:
        return out
    lo, hi, best = 0, len(raw) - 1, render(ELLIPSIS)
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = render(shorten(raw, mid))
        if len(candidate) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best if len(best) <= limit else best[:limit]


def safe_url(url: str | None) -> str | None:
    """The URL made safe inside `<url|label>`, or None when it must not be linked."""
    url = clean(url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    quoted = quote(url, safe=_URL_SAFE)  # percent-encodes space, |, <, >, quotes, non-ASCII
    quoted = quoted.replace("&", "&amp;")
    return quoted if len(quoted) <= URL_LINK_MAX else None


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL, else the bare (escaped) label."""
    label = escape(label) or "(untitled)"
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def emphasize(text: str, terms: Sequence[str]) -> str:
    """Escape `text`, bolding whole-word, case-insensitive occurrences of `terms`."""
    words = sorted({clean(t) for t in terms if clean(t)}, key=len, reverse=True)
    if not words:
        return escape(text)
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos : m.start()]))
        out.append(f"*{escape(m.group(0))}*")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def slack_date(when: datetime | None) -> str:
    """A date Slack shows in the reader's time zone, with a UTC fallback."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    fallback = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


# -- block builders ----------------------------------------------------------------------------


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

_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>")
_BARE_LINK = re.compile(r"<([^<>|]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def mrkdwn_to_plain(text: str) -> str:
    """Undo our own mrkdwn: links become "label (url)", dates their fallback, no markup."""

    def _link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("!date^"):
            return label
        return f"{label} ({target})"

    text = _LINK.sub(_link, text)
    text = _BARE_LINK.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


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
