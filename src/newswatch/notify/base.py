"""The delivery contract every notifier honours, so the outbox can stay notifier-agnostic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from newswatch.notify.blocks import SlackMessage

_SLACK_TS = re.compile(r"^\d{9,11}\.\d{6}$")


@dataclass(frozen=True)
class Delivery:
    """Where a message landed. `ts` is a real Slack ts only for the Slack Web API notifier."""

    channel: str
    ts: str


def is_slack_ts(ts: str | None) -> bool:
    """True for a Slack message ts (usable as thread_ts), False for synthetic ones."""
    return bool(ts and _SLACK_TS.match(ts))


class DeliveryError(Exception):
    """A send that did not happen (or whose outcome is unknown).

    `reason` is one line for logs and the outbox; `transient` says whether the
    same message may succeed later (5xx, timeouts, rate limits) or needs a human
    (bad token, missing channel, rejected payload). After a transient error the
    message may still have been posted (e.g. a lost response): call `find_sent`
    before re-sending.

    `code` is Slack's error code when there is one, `channel` where the call went,
    `needed` the scope Slack says is missing (`missing_scope`), and `method` the API
    call: the outbox uses them to tell a fault the operator can fix (the alert waits)
    from a final one, and to name it once in plain words.
    """

    def __init__(
        self,
        reason: str,
        transient: bool,
        *,
        code: str = "",
        channel: str = "",
        needed: str = "",
        method: str = "",
    ):
        self.reason = " ".join(str(reason).split())[:500]
        self.transient = transient
        self.code = code
        self.channel = channel
        self.needed = needed
        self.method = method
        super().__init__(self.reason)


class NotifierSetupError(Exception):
    """The configured notifier cannot be built (e.g. its secret cannot be loaded)."""


@runtime_checkable
class Notifier(Protocol):
    name: str

    def send(self, message: SlackMessage) -> Delivery:
        """Post `message`; raise DeliveryError if it was not (or may not have been) posted."""
        ...

    def find_sent(
        self, channel: str, alert_id: str, oldest: float, thread_ts: str | None = None
    ) -> Delivery | None:
        """The delivery of the message carrying `alert_id`, if one was posted after `oldest`.

        `thread_ts` narrows the search to a thread (Slack's channel history does
        not list thread replies). None means "not found" or "cannot tell".
        """
        ...


class FanoutNotifier:
    """Send to several notifiers (e.g. stdout and JSONL); the first one's delivery counts."""

    def __init__(self, notifiers: Sequence[Notifier]):
        if not notifiers:
            raise ValueError("FanoutNotifier needs at least one notifier")
        self.notifiers = list(notifiers)
        self.name = "+".join(n.name for n in self.notifiers)

    def send(self, message: SlackMessage) -> Delivery:
        deliveries = [n.send(message) for n in self.notifiers]
        return deliveries[0]

    def update(self, message: SlackMessage, ts: str) -> Delivery:
        """Edit a sent message where the notifier can (Slack, stdout); others keep theirs."""
        done = [n.update(message, ts) for n in self.notifiers if hasattr(n, "update")]
        return done[0] if done else Delivery(channel=message.channel, ts=ts)

    def find_sent(
        self, channel: str, alert_id: str, oldest: float, thread_ts: str | None = None
    ) -> Delivery | None:
        for notifier in self.notifiers:
            found = notifier.find_sent(channel, alert_id, oldest, thread_ts)
            if found is not None:
                return found
        return None
