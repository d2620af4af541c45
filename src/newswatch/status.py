"""`newswatch sources` and `newswatch status`: is the service healthy?"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from newswatch.health import broken_reason
from newswatch.schema import Config
from newswatch.store import Store


def _fmt(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "never"


def sources_table(config: Config, store: Store) -> Table:
    states = store.source_states()
    table = Table(title="sources")
    table.add_column("name", no_wrap=True)
    for col in (
        "kind",
        "last success",
        "failures",
        "items",
        "extraction fallback",
        "health",
    ):
        table.add_column(col)
    for s in config.sources:
        st = states.get(s.name, {})
        total = st.get("articles_total") or 0
        rate = f"{(st.get('extraction_failures') or 0) / total:.0%}" if total else "-"
        reason = broken_reason(st, config.settings.health) if st else None
        health = "never polled" if not st else (f"[red]broken: {reason}[/]" if reason else "ok")
        if st and not reason and st.get("degraded"):
            health = "[yellow]degraded[/] (below)"
        table.add_row(
            s.name,
            s.kind,
            _fmt(st.get("last_success")),
            str(st.get("consecutive_failures") or 0),
            str(st.get("items_last_poll") or 0),
            rate,
            health,
        )
    return table


def print_sources(config: Config, console: Console) -> None:
    store = Store(config.settings.store.url)
    try:
        console.print(sources_table(config, store))
        states = store.source_states()
    finally:
        store.close()
    for s in config.sources:  # whole sentences: they name the setting to change
        if why := (states.get(s.name) or {}).get("degraded"):
            console.print(f"[yellow]degraded[/] {escape(s.name)}: {escape(why)}", highlight=False)


def store_label(url: str) -> str:
    """The store a command uses, password hidden: printed so two setups never diverge unseen."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def print_status(config: Config, console: Console) -> None:
    console.print(f"store: {store_label(config.settings.store.url)}", highlight=False)
    store = Store(config.settings.store.url)
    try:
        table = Table(title="last passes")
        for col in (
            "started",
            "finished",
            "new articles",
            "events",
            "alerts",
            "delivered",
            "queued",
            "failed sources",
        ):
            table.add_column(col)
        for p in store.last_passes(10):
            s = p.get("summary") or {}
            table.add_row(
                _fmt(p["started_at"]),
                _fmt(p["finished_at"]) if p["finished_at"] else "[yellow]running/crashed[/]",
                str(s.get("new_articles", "-")),
                str(s.get("events_new", "-")),
                str(s.get("alerts_queued", "-")),
                str(s.get("alerts_sent", "-")),
                str(s.get("alerts_pending", "-")),
                str(len(s.get("sources_failed") or [])),
            )
        console.print(table)
        counts = store.outbox_counts()
        pending = counts.get("pending", 0) + counts.get("sending", 0)
        sent, failed = counts.get("sent", 0), counts.get("failed", 0)
        expired = counts.get("expired", 0)
        console.print(
            f"outbox: {pending} pending, {sent} sent, {failed} failed, {expired} expired"
            + (" (`newswatch outbox` lists them with reasons)" if pending or failed else "")
        )
        for text in store.open_faults().values():
            console.print(f"  [yellow]to fix[/]: {text}", highlight=False)
        ev = store.event_counts()
        console.print(
            f"events: {ev['events']} alerted, from {ev['articles']} articles "
            f"by {ev['outlets']} outlets"
        )
        console.print(sources_table(config, store))
    finally:
        store.close()
