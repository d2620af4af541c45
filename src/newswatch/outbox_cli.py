"""`newswatch outbox`: what is queued, failed or expired and why; `outbox retry` re-queues."""

from __future__ import annotations

from rich.console import Console

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
    console.print(f"outbox: {len(rows)} undelivered alert(s)")
    for r in rows:  # one block per alert: long reasons stay whole and greppable
        status = "unknown (looked up before any resend)" if r.status == "sending" else r.status
        console.print(
            f"[bold]{status}[/] {r.id[:12]}  {r.topic_id} -> {r.channel}  "
            f"queued {r.created_at:%Y-%m-%d %H:%M} UTC, {r.attempts} tries",
            highlight=False,
        )
        console.print(f"  {str(r.payload.get('title', ''))[:100]}", highlight=False, markup=False)
        if r.last_error:
            console.print(f"  reason: {r.last_error}", highlight=False, markup=False)
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
