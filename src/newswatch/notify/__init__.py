"""Where alerts go: Slack Web API, an incoming webhook, or the terminal (+ a JSONL file).

`build_notifier` picks the richest channel the environment allows, so a fresh
checkout prints alerts and a deployment with a bot token posts them.
"""

from __future__ import annotations

import os

from newswatch.notify.base import (
    Delivery,
    DeliveryError,
    FanoutNotifier,
    Notifier,
    NotifierSetupError,
    is_slack_ts,
)
from newswatch.notify.blocks import (
    SlackMessage,
    alert_message,
    digest_id,
    digest_message,
    notice_message,
    plain_text,
)
from newswatch.notify.jsonl import JsonlNotifier
from newswatch.notify.slack import SlackNotifier
from newswatch.notify.stdout import StdoutNotifier
from newswatch.notify.webhook import WebhookNotifier
from newswatch.schema import SlackSettings

__all__ = [
    "Delivery",
    "DeliveryError",
    "FanoutNotifier",
    "JsonlNotifier",
    "Notifier",
    "NotifierSetupError",
    "SlackMessage",
    "SlackNotifier",
    "StdoutNotifier",
    "WebhookNotifier",
    "alert_message",
    "build_notifier",
    "digest_id",
    "digest_message",
    "is_slack_ts",
    "notice_message",
    "plain_text",
    "slack_token",
]


def slack_token(settings: SlackSettings) -> str | None:
    """The bot token: the env var wins; else the Prefect Secret block, if one is named.

    A named block that cannot be loaded is an error, not a silent fall back to
    stdout (which would quietly stop alerts reaching Slack).
    """
    token = os.environ.get(settings.token_env, "").strip()
    if token:
        return token
    block = getattr(settings, "token_secret_block", None)
    if not block:
        return None
    try:
        from prefect.blocks.system import Secret  # lazy: importing prefect is slow

        value = Secret.load(block).get()
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        raise NotifierSetupError(
            f"cannot load Prefect Secret block {block!r}: {type(exc).__name__}: {reason}"
        ) from exc
    return str(value).strip() or None


def build_notifier(settings: SlackSettings, alerts_jsonl: str | None = None) -> Notifier:
    """Slack if a token is available, else a webhook if its URL is set, else stdout (+ JSONL)."""
    token = slack_token(settings)
    if token:
        return SlackNotifier(
            token,
            base_url=settings.base_url,
            min_seconds_between_posts=settings.min_seconds_between_posts,
            token_env=settings.token_env,
        )
    webhook_url = os.environ.get(settings.webhook_url_env, "").strip()
    if webhook_url:
        return WebhookNotifier(webhook_url)
    if alerts_jsonl:
        return FanoutNotifier([JsonlNotifier(alerts_jsonl), StdoutNotifier()])
    return StdoutNotifier()
