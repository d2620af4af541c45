"""Read the emoji reactions on messages we posted (Slack Web API; no public endpoint needed).

`conversations.history` lists a channel's top-level messages with their reactions
(one call per 200 messages); thread replies are only in `conversations.replies`;
`reactions.get` reads one message by ts, reply or not. Scopes: `channels:history`
(`groups:history` for private channels) and `reactions:read`.
"""

from __future__ import annotations

from typing import Any

from newswatch.notify.base import DeliveryError
from newswatch.notify.slack import HISTORY_PAGE, SlackNotifier

Reactions = dict[str, list[str]]  # emoji name (as Slack reports it) -> user ids
MAX_PAGES = 50  # 10,000 messages per channel and window: far beyond a 14-day alert channel


def _of(message: dict[str, Any]) -> Reactions:
    return {r["name"]: list(r.get("users") or []) for r in message.get("reactions") or []}


def channel_reactions(
    notifier: SlackNotifier, channel: str, oldest: float, thread_ts: str | None = None
) -> dict[str, Reactions]:
    """ts -> reactions of every message newer than `oldest` in a channel (or one thread)."""
    client = notifier.client
    if thread_ts:
        method, fn, base = "conversations.replies", client.conversations_replies, {"ts": thread_ts}
    else:
        method, fn, base = "conversations.history", client.conversations_history, {}
    out: dict[str, Reactions] = {}
    cursor = None
    for _ in range(MAX_PAGES):
        response = notifier._call(
            method,
            fn,
            channel=channel,
            oldest=f"{max(oldest, 0):.6f}",
            limit=HISTORY_PAGE,
            **base,
            **({"cursor": cursor} if cursor else {}),
        )
        for msg in response.get("messages") or []:
            out[msg["ts"]] = _of(msg)
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return out


def message_reactions(notifier: SlackNotifier, channel: str, ts: str) -> Reactions | None:
    """The reactions of one message (a thread reply too); None if Slack no longer has it."""
    try:
        response = notifier._call(
            "reactions.get",
            notifier.client.reactions_get,
            channel=channel,
            timestamp=ts,
            full=True,
        )
    except DeliveryError as exc:
        if "message_not_found" in exc.reason:
            return None
        raise
    return _of(response.get("message") or {})
