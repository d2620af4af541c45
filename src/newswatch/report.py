"""Human-readable pass reports (Prefect artifact, CLI summary)."""

from __future__ import annotations

from newswatch.pass_.stats import PassStats


def pass_markdown(stats: PassStats) -> str:
    lines = [
        "# newswatch pass",
        "",
        "| sources | failed | new articles | matches | alerts | follow-ups | delivered | queued |",
        "|---|---|---|---|---|---|---|---|",
        f"| {stats.sources_polled} | {len(stats.sources_failed)} | {stats.new_articles} "
        f"| {stats.matches} | {stats.alerts_queued} | {stats.followups_queued} "
        f"| {stats.alerts_sent} | {stats.alerts_pending} |",
        "",
    ]
    if stats.sources_failed:
        lines += ["## Failed sources", ""]
        lines += [f"- **{name}**: {reason}" for name, reason in stats.sources_failed]
        lines.append("")
    if stats.delivery_problem:
        lines += ["## Delivery", "", stats.delivery_problem, ""]
    if stats.notices:
        lines += ["## Notices", ""] + [f"- {n}" for n in stats.notices] + [""]
    if stats.timings:
        lines += ["## Time per stage (s)", ""]
        lines += [f"- {k}: {v:.2f}" for k, v in sorted(stats.timings.items())]
    return "\n".join(lines)
