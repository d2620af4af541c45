"""Source health: a source that silently breaks is the analyst's worst failure mode.

After each poll the store tracks last success, consecutive failures and when a
source last listed something new. Crossing a limit raises ONE "source broken"
notice; coming back raises ONE "recovered" notice (the store's flag flip decides
who sends it, so concurrent passes do not double it).
"""

from __future__ import annotations

from datetime import timedelta

from newswatch.clock import utcnow
from newswatch.schema import HealthSettings
from newswatch.store import Store


def broken_reason(state: dict, health: HealthSettings) -> str | None:
    """Why this source counts as broken now, or None."""
    failures = state.get("consecutive_failures") or 0
    if failures >= health.failures_before_notice:
        return f"{failures} polls failed in a row; last error: {state.get('last_error') or '?'}"
    last_new = state.get("last_new_item_at") or state.get("last_success")
    if last_new is not None and failures == 0:
        if last_new.tzinfo is None:
            last_new = last_new.replace(tzinfo=utcnow().tzinfo)
        silent = utcnow() - last_new
        if silent > timedelta(hours=health.silent_hours_before_notice):
            hours = silent.total_seconds() / 3600
            return f"no new items for {hours:.0f} hours"
    return None


def health_notices(store: Store, names: list[str], health: HealthSettings) -> list[str]:
    """Notices to send after this pass's polls (each state change reported once)."""
    states = store.source_states()
    notices: list[str] = []
    for name in names:
        state = states.get(name)
        if state is None:
            continue
        reason = broken_reason(state, health)
        if reason and store.set_source_broken(name, True):
            notices.append(f":warning: newswatch source *{name}* looks broken: {reason}")
        elif not reason and state.get("broken") and store.set_source_broken(name, False):
            notices.append(f":white_check_mark: newswatch source *{name}* has recovered")
    return notices
