"""Slack mrkdwn for untrusted text: cleaned, escaped, shortened, linked, bolded.

Article text is untrusted: control and bidi characters go, `&`, `<`, `>` are escaped,
so `<!channel>` or `<http://evil|bank>` is shown, never acted on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

URL_LINK_MAX = 2000  # longer URLs are not linked (they would crowd out the title)
ELLIPSIS = "…"
_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"


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
