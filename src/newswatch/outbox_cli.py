"""`newswatch outbox`: what is queued, failed or expired and why; `outbox retry` re-queues."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from newswatch.schema import Config
from newswatch.store import Store

LISTED = ("pending", "sending", "failed", "expired")


def print_outbox(config: Config, console: Console, topic: str | None = None) -> int:
    """Print every undelivered alert with its reason; returns how many were listed."""
    store = Store(config.settings.store.url)
    try:
        rows = store.outbox_rows(LISTED, topic=topic)
        faults = store.open_faults()
    finally:
        store.close()
    if not rows:
        console.print("outbox: nothing pending, failed or expired")
        return 0
    table = Table(title=f"outbox: {len(rows)} undelivered alert(s)")
    for col in ("id", "status", "topic", "channel", "queued", "tries", "title", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = "unknown (look-up first)" if r.status == "sending" else r.status
        table.add_row(
            r.id[:12],
            status,
            r.topic_id,
            r.channel,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            str(r.attempts),
            str(r.payload.get("title", ""))[:60],
            r.last_error or "",
        )
    console.print(table)
    for text in faults.values():
        console.print(f"[yellow]to fix[/]: {text}", highlight=False)
    if any(r.status in ("failed", "expired") for r in rows):
        console.print("`newswatch outbox retry` puts failed and expired alerts back in the queue")
    return len(rows)


def retry_outbox(
    config: Config, console: Console, topic: str | None = None, alert_id: str | None = None
) -> int:
    store = Store(config.settings.store.url)
    try:
        n = store.retry_alerts(topic=topic, alert_id=alert_id)
    finally:
        store.close()
    console.print(f"{n} alert(s) put back in the queue; the next pass delivers them")
    return n
