"""The text of the daily source-health report (plain function; the flow only delivers it)."""

from __future__ import annotations

from newswatch.health import broken_reason
from newswatch.schema import Config
from newswatch.store import Store


def health_report_text(config: Config, store: Store) -> str:
    states = store.source_states()
    ok, bad, never = [], [], []
    for s in config.sources:
        st = states.get(s.name)
        if not st:
            never.append(s.name)
            continue
        reason = broken_reason(st, config.settings.health)
        total = st.get("articles_total") or 0
        fallback = (st.get("extraction_failures") or 0) / total if total else 0.0
        if reason:
            bad.append(f"• *{s.name}*: {reason}")
        elif fallback > 0.5 and total >= 10:
            bad.append(f"• *{s.name}*: {fallback:.0%} of pages fell back to the feed summary")
        else:
            ok.append(s.name)
    lines = [f"newswatch source health: {len(ok)} ok, {len(bad)} need attention"]
    lines += bad
    if never:
        lines.append("never polled: " + ", ".join(never))
    return "\n".join(lines)
