"""Slack Web API delivery (chat.postMessage) with retries, a per-channel throttle and look-back.

Retries are slack_sdk's own handlers: 429s wait for Retry-After, 500/503s back
off, and connection failures are retried only when urllib reports them before
the request was sent (`URLError`); a reset *after* sending is ambiguous (Slack
may have posted) so it surfaces as a transient DeliveryError and the outbox
should call `find_sent` before sending again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter

from newswatch.notify.base import Delivery, DeliveryError, is_slack_ts
from newswatch.notify.blocks import ALERT_EVENT, DIGEST_EVENT, NOTICE_EVENT, SlackMessage

# Slack error codes worth retrying later; everything else needs a config or code fix.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
_OUR_EVENTS = frozenset({ALERT_EVENT, DIGEST_EVENT, NOTICE_EVENT})
HISTORY_PAGE = 200
HISTORY_MAX_PAGES = 10


class ProportionalJitter(Jitter):
    """Up to +100% of the backoff, instead of slack_sdk's flat +0..1 s (keeps tests fast)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


def backoff(factor: float) -> BackoffRetryIntervalCalculator:
    """Exponential backoff (factor, 2x, 4x …) with proportional jitter."""
    return BackoffRetryIntervalCalculator(backoff_factor=factor, jitter=ProportionalJitter())


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleeps Retry-After), but gives up on long waits.

    A Retry-After beyond `max_wait` surfaces as a transient `ratelimited`
    DeliveryError, so the outbox retries on a later pass instead of a flow
    sleeping for minutes.
    """

    def __init__(self, max_retry_count: int = 1, max_wait: float = 30.0):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        for key, values in (response.headers or {}).items() if response else ():
            if key.lower() == "retry-after":
                value = values[0] if isinstance(values, list | tuple) else values
                try:
                    return float(value) <= self.max_wait
                except (TypeError, ValueError):
                    return True
        return True


class Throttle:
    """At most one post per `interval` seconds per key (Slack allows ~1 msg/s/channel).

    Slots are reserved under a lock and waited for outside it, so concurrent
    senders to one channel queue up instead of bursting.
    """

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = max(0.0, interval)
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Block until `key` may be used again; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


def _one_line(text: Any, limit: int = 300) -> str:
    return " ".join(str(text).split())[:limit]


def api_error(method: str, exc: SlackApiError, channel: str = "") -> DeliveryError:
    """Map a SlackApiError to a DeliveryError naming Slack's error code (and the channel)."""
    response = exc.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    code = code or (f"http_{status}" if status else "unknown_error")
    transient = status == 429 or (status or 0) >= 500 or code in TRANSIENT_ERRORS
    detail = ""
    if isinstance(data, dict) and data.get("errors"):
        detail = f": {_one_line(data['errors'], 200)}"
    needed = str(data.get("needed") or "") if isinstance(data, dict) else ""
    if needed:
        detail += f" (needs scope {needed})"
    where = f" in {channel}" if channel else ""
    return DeliveryError(
        f"{method} failed: {code}{where} (HTTP {status}){detail}",
        transient=transient,
        code=code,
        channel=channel,
        needed=needed,
        method=method,
    )


def transport_error(method: str, exc: Exception, channel: str = "") -> DeliveryError:
    """Network trouble (refused, reset, timeout): always worth retrying later."""
    reason = getattr(exc, "reason", None) or exc
    return DeliveryError(
        f"{method} failed: cannot reach Slack: {type(exc).__name__}: {_one_line(reason)}",
        transient=True,
        code="unreachable",
        channel=channel,
        method=method,
    )


class SlackNotifier:
    """Posts via the Web API; can look back through channel history for a sent alert."""

    name = "slack"

    def __init__(
        self,
        token: str,
        base_url: str = "https://slack.com/api/",
        min_seconds_between_posts: float = 1.0,
        timeout: int = 10,
        token_env: str = "SLACK_BOT_TOKEN",
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        max_retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        interval = backoff(retry_backoff)
        handlers = [
            ConnectionErrorRetryHandler(
                max_retry_count=max_retries, interval_calculator=interval, error_types=[URLError]
            ),
            BoundedRateLimitRetryHandler(max_retry_count=max_retries, max_wait=max_retry_after),
            ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
        ]
        if not base_url.endswith("/"):
            base_url += "/"
        self.client = WebClient(
            token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers
        )
        self.throttle = Throttle(min_seconds_between_posts, clock=clock, sleep=sleep)
        self.token_env = token_env  # named in the "set SLACK_BOT_TOKEN" notice

    def _call(self, method: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        channel = str(kwargs.get("channel") or "")
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            raise api_error(method, exc, channel) from exc
        except (OSError, URLError) as exc:  # refused, reset, timed out
            raise transport_error(method, exc, channel) from exc
        except SlackClientError as exc:  # e.g. a malformed base_url
            raise DeliveryError(f"{method} failed: {_one_line(exc)}", transient=False) from exc

    def send(self, message: SlackMessage) -> Delivery:
        args = message.to_api()
        if not is_slack_ts(args.get("thread_ts")):
            # A synthetic ts (webhook/stdout era) cannot anchor a thread: post top-level.
            args.pop("thread_ts", None)
            args.pop("reply_broadcast", None)
        self.throttle.wait(message.channel)
        response = self._call("chat.postMessage", self.client.chat_postMessage, **args)
        return Delivery(channel=response["channel"], ts=response["ts"])

    def update(self, message: SlackMessage, ts: str) -> Delivery:
        """chat.update the message at `ts` (an event's lead) with `message`'s content."""
        args = message.to_api()
        for key in ("thread_ts", "reply_broadcast", "unfurl_links", "unfurl_media"):
            args.pop(key, None)
        self.throttle.wait(message.channel)
        response = self._call("chat.update", self.client.chat_update, ts=ts, **args)
        return Delivery(channel=response["channel"], ts=response["ts"])

    def find_sent(
        self, channel: str, alert_id: str, oldest: float, thread_ts: str | None = None
    ) -> Delivery | None:
        """Search messages newer than `oldest` for our metadata carrying `alert_id`.

        Needs the `channels:history` (or `groups:history`) scope. Thread replies
        are not in channel history, so follow-ups are looked up with `thread_ts`
        via conversations.replies. Returns the channel as given (history
        responses do not name it).
        """
        if thread_ts and is_slack_ts(thread_ts):
            method, fn = "conversations.replies", self.client.conversations_replies
            base = {"channel": channel, "ts": thread_ts}
        else:
            method, fn = "conversations.history", self.client.conversations_history
            base = {"channel": channel}
        cursor = None
        for _ in range(HISTORY_MAX_PAGES):
            response = self._call(
                method,
                fn,
                **base,
                oldest=f"{max(oldest, 0):.6f}",
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                **({"cursor": cursor} if cursor else {}),
            )
            for msg in response.get("messages") or []:
                meta = msg.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") in _OUR_EVENTS and payload.get("alert_id") == alert_id:
                    return Delivery(channel=channel, ts=msg["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    def check(self) -> str:
        """auth.test: the bot's user id, or a DeliveryError saying why the token is unusable."""
        return self._call("auth.test", self.client.auth_test)["user_id"]
