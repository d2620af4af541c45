"""Incoming-webhook delivery: the fallback when there is no bot token.

A webhook posts to the one channel it was created for (the message's channel
is ignored), cannot thread, and returns no message ts. So `send` reports a
synthetic ts and `find_sent` always returns None: a webhook cannot look back,
which means a crash between send and mark may produce a duplicate alert.
"""

from __future__ import annotations

import time
import uuid
from urllib.error import URLError

from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from newswatch.notify.base import Delivery, DeliveryError
from newswatch.notify.blocks import SlackMessage
from newswatch.notify.slack import BoundedRateLimitRetryHandler, backoff

# Answers (plain-text bodies) that no retry will fix.
PERMANENT_BODIES = frozenset(
    {
        "invalid_payload",
        "invalid_token",
        "no_service",
        "no_active_hooks",
        "action_prohibited",
        "channel_not_found",
        "channel_is_archived",
        "no_text",
        "invalid_blocks",
        "posting_to_general_channel_denied",
    }
)


class WebhookNotifier:
    name = "webhook"

    def __init__(
        self, url: str, timeout: int = 10, max_retries: int = 2, retry_backoff: float = 0.5
    ):
        interval = backoff(retry_backoff)
        self.client = WebhookClient(
            url,
            timeout=timeout,
            retry_handlers=[
                ConnectionErrorRetryHandler(
                    max_retry_count=max_retries,
                    interval_calculator=interval,
                    error_types=[URLError],
                ),
                BoundedRateLimitRetryHandler(max_retry_count=max_retries),
                ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
            ],
        )

    def send(self, message: SlackMessage) -> Delivery:
        try:
            response = self.client.send(
                text=message.text,
                blocks=message.blocks or None,
                unfurl_links=message.unfurl_links,
                unfurl_media=message.unfurl_media,
                metadata=message.metadata,
            )
        except (OSError, URLError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DeliveryError(
                f"webhook failed: cannot reach Slack: {type(exc).__name__}: {reason}",
                transient=True,
            ) from exc
        except SlackClientError as exc:
            raise DeliveryError(f"webhook failed: {exc}", transient=False) from exc
        body = " ".join(str(response.body or "").split())[:200]
        if response.status_code == 200 and body == "ok":
            return Delivery(
                channel=message.channel, ts=f"webhook:{time.time():.6f}:{uuid.uuid4().hex[:8]}"
            )
        transient = (
            response.status_code == 429
            or response.status_code >= 500
            or body not in PERMANENT_BODIES
            and response.status_code not in (400, 403, 404, 410)
        )
        raise DeliveryError(
            f"webhook failed: {body or 'no body'} (HTTP {response.status_code})",
            transient=transient,
        )

    def find_sent(
        self, channel: str, alert_id: str, oldest: float, thread_ts: str | None = None
    ) -> Delivery | None:
        """Always None: incoming webhooks cannot read channel history."""
        return None
