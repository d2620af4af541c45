"""Which delivery errors an operator can fix, and what to tell them in plain words.

A fixable fault (a rotated token, a bot never invited, a typo in a channel, a
missing scope) keeps its alerts queued: they go out on the first pass after the
fix. A message Slack rejects as too big or malformed is re-sent in a reduced form.
Anything else is final and marks the alert failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newswatch.notify.base import DeliveryError

TOKEN_CODES = frozenset(
    {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed"}
)
CHANNEL_CODES = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
RATE_CODES = frozenset({"ratelimited", "rate_limited"})
REDUCIBLE_CODES = frozenset(
    {"msg_too_long", "invalid_blocks", "invalid_blocks_format", "invalid_attachments"}
)
_HTTP = re.compile(r"\(HTTP (\d+)\)")
LOOKUP_METHODS = frozenset({"conversations.history", "conversations.replies"})


@dataclass(frozen=True)
class Fault:
    """One fixable fault: `key` is remembered once announced, `scope` says what it blocks.

    scope: "all" (no post can succeed: the token, a missing chat:write, rate limits),
    "channel" (posts to `channel`), "lookup" (history look-ups, not fresh posts).
    """

    key: str
    scope: str
    channel: str
    text: str


def _chan(channel: str) -> str:
    return channel if channel.startswith(("#", "C", "G", "D")) else f"#{channel}"


def classify(exc: DeliveryError, token_env: str = "SLACK_BOT_TOKEN") -> Fault | None:
    """The fixable fault behind `exc`, or None (a final error, or plain transient trouble)."""
    code, channel = exc.code, exc.channel
    if code in TOKEN_CODES:
        words = {
            "token_revoked": "token revoked",
            "token_expired": "token expired",
            "account_inactive": "the bot's account is deactivated",
            "not_authed": "no Slack token sent",
        }.get(code, "Slack rejects the bot token (invalid_auth)")
        return Fault(f"token:{code}", "all", "", f"{words}: set {token_env} to a valid bot token")
    if code == "missing_scope":
        needed = exc.needed or (
            "channels:history" if exc.method in LOOKUP_METHODS else "chat:write"
        )
        if exc.method in LOOKUP_METHODS:
            return Fault(
                f"lookup-scope:{needed}",
                "lookup",
                "",
                f"the Slack app lacks the scope {needed}: add it under OAuth & Permissions and "
                "reinstall the app (alerts whose send was interrupted wait for it, so none is "
                "posted twice)",
            )
        return Fault(
            f"scope:{needed}",
            "all",
            "",
            f"the Slack app lacks the scope {needed}: add it under OAuth & Permissions and "
            "reinstall the app",
        )
    if code in CHANNEL_CODES and channel:
        c = _chan(channel)
        text = {
            "not_in_channel": f"bot is not in {c}: /invite @newswatch",
            "is_archived": f"{c} is archived: unarchive it or change the topic's channel",
        }.get(
            code,
            f"channel {c} not found: fix the topic's `channel` (or slack.default_channel), "
            "or create the channel",
        )
        return Fault(f"channel:{code}:{channel}", "channel", channel, text)
    if code in RATE_CODES:
        return Fault(
            "ratelimited",
            "all",
            "",
            "Slack is rate-limiting newswatch beyond the wait limit: alerts wait for the next pass",
        )
    return None


def error_label(exc: DeliveryError) -> str:
    """'not_in_channel in #alerts' / 'cannot reach Slack': one distinct error for summaries."""
    if exc.code == "unreachable":
        return "cannot reach Slack"
    label = exc.code or exc.reason
    status = _HTTP.search(exc.reason) if exc.code else None
    if status and status.group(1) != "200":
        label += f" (HTTP {status.group(1)})"
    return f"{label} in {exc.channel}" if exc.channel else label
