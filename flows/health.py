"""Daily source-health report: which sources are broken, silent or degraded."""

from __future__ import annotations

import contextlib

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from newswatch.config import load_config
from newswatch.delivery import send_notices
from newswatch.health_report import health_report_text
from newswatch.notify import build_notifier
from newswatch.store import Store


@flow(name="newswatch-source-health")
def source_health_report(config_dir: str | None = None) -> str:
    """Post one message summarising every source's health to the default channel."""
    config = load_config(config_dir)
    store = Store(config.settings.store.url)
    try:
        text = health_report_text(config, store)
    finally:
        store.close()
    notifier = build_notifier(config.settings.slack)
    for problem in send_notices(notifier, config.settings.slack.default_channel, [text]):
        get_run_logger().warning(problem)
    with contextlib.suppress(Exception):  # an artifact is a nicety, never a failure
        create_markdown_artifact(key="newswatch-source-health", markdown=text)
    return text
