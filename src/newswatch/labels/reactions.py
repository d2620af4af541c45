"""Slack reactions on posted alerts -> labels, once per pass.

Each pass reads the reactions on the alerts it posted in the last
`labels.reaction_window_days` and compares them with what the previous pass saw:
a new (or switched) reaction stores that person's label, a removed one deletes it.
Only changes are applied, so a later `newswatch label` by the same person is not
overwritten by an old reaction that is still there.

- Lead alerts (and top-level follow-ups) are read from `conversations.history`, one
  call per 200 messages of each channel; follow-ups in a thread from
  `conversations.replies` of that thread; anything still missing with `reactions.get`.
- A person who reacted with both a relevant and a not-relevant emoji has no label.
- A digest is one message for several alerts: a reaction cannot say which line it
  judges, so digests are not read (label those articles with `newswatch label`).
- A message Slack does not return (deleted, out of reach, a failed call) keeps its
  labels as they are: a failure never removes labels.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from newswatch.clock import utcnow
from newswatch.notify.base import DeliveryError, FanoutNotifier, Notifier
from newswatch.notify.reactions import Reactions, channel_reactions, message_reactions
from newswatch.notify.slack import SlackNotifier
from newswatch.schema import LabelSettings, Settings
from newswatch.store import ReactionAlert, Store

log = logging.getLogger("newswatch.labels")
MAX_SINGLE_READS = 50  # reactions.get calls per pass for messages history did not list
SCOPES_HINT = "needs bot scopes channels:history (groups:history if private) and reactions:read"


@dataclass
class ReactionSync:
    alerts: int = 0  # alerts in the window
    written: int = 0  # labels stored or changed
    removed: int = 0  # labels deleted (reaction removed)
    unseen: int = 0  # alerts whose message Slack did not return: labels kept
    digests: int = 0  # alerts posted in a digest: not read
    problem: str = ""


def _slack(notifier: Notifier) -> SlackNotifier | None:
    if isinstance(notifier, SlackNotifier):
        return notifier
    if isinstance(notifier, FanoutNotifier):
        return next((n for n in notifier.notifiers if isinstance(n, SlackNotifier)), None)
    return None


def verdicts(reactions: Mapping[str, list[str]], settings: LabelSettings) -> dict[str, int]:
    """person -> 1/0 from one message's reactions (skin tones ignored; conflicts dropped)."""
    relevant, not_relevant = set(settings.relevant_emoji), set(settings.not_relevant_emoji)
    seen: dict[str, set[int]] = defaultdict(set)
    for name, users in reactions.items():
        base = name.split("::", 1)[0]  # "+1::skin-tone-2" is a +1
        value = 1 if base in relevant else 0 if base in not_relevant else None
        if value is None:
            continue
        for user in users:
            seen[user].add(value)
    return {user: values.pop() for user, values in seen.items() if len(values) == 1}


def _read_all(
    slack: SlackNotifier, posted: list[ReactionAlert], store: Store, report: ReactionSync
) -> dict[tuple[str, str], Reactions]:
    """(channel, ts) -> reactions for as many of `posted` as Slack returns."""
    oldest = min(float(a.slack_ts) for a in posted) - 1
    ts_of = {a.id: a.slack_ts for a in posted}
    seen: dict[tuple[str, str], Reactions] = {}
    by_channel: dict[str, list[ReactionAlert]] = defaultdict(list)
    for a in posted:
        by_channel[a.slack_channel].append(a)
    for channel, group in by_channel.items():
        try:
            for ts, r in channel_reactions(slack, channel, oldest).items():
                seen[(channel, ts)] = r
            threads = set()
            for a in group:
                if (channel, a.slack_ts) in seen or a.kind != "followup" or not a.lead_alert_id:
                    continue
                parent = ts_of.get(a.lead_alert_id) or store.alert_delivery(a.lead_alert_id)[1]
                if parent:
                    threads.add(parent)
            for parent in sorted(threads):
                for ts, r in channel_reactions(slack, channel, oldest, thread_ts=parent).items():
                    seen[(channel, ts)] = r
        except DeliveryError as exc:
            report.problem = f"reading reactions in {channel} failed ({SCOPES_HINT}): {exc.reason}"
    reads = 0
    for a in posted:
        key = (a.slack_channel, a.slack_ts)
        if key in seen or reads >= MAX_SINGLE_READS or report.problem:
            continue
        reads += 1
        try:
            found = message_reactions(slack, a.slack_channel, a.slack_ts)
        except DeliveryError as exc:
            report.problem = f"reactions.get failed ({SCOPES_HINT}): {exc.reason}"
            break
        if found is not None:
            seen[key] = found
    return seen


def sync_reactions(
    store: Store,
    notifier: Notifier,
    settings: Settings,
    logger: logging.Logger | logging.LoggerAdapter = log,
    shard: str | None = None,
) -> ReactionSync:
    """Store the labels analysts gave by reacting to recent alerts; Slack trouble never raises.

    With sharded workers only shard 0 reads (every shard sees the same alerts).
    """
    cfg = settings.labels
    report = ReactionSync()
    slack = _slack(notifier)
    if not cfg.from_reactions or slack is None or (shard and not shard.startswith("0/")):
        return report  # reactions exist only where the Slack Web API posted the alerts
    since = utcnow() - timedelta(days=cfg.reaction_window_days)
    posted = store.reaction_alerts(since)
    report.alerts = len(posted)
    shared = Counter((a.slack_channel, a.slack_ts) for a in posted)
    single = [a for a in posted if shared[(a.slack_channel, a.slack_ts)] == 1]
    report.digests = len(posted) - len(single)
    if not single:
        return report
    seen = _read_all(slack, single, store, report)
    before = store.reaction_state([a.id for a in single])
    changed: list[tuple[ReactionAlert, dict[str, int]]] = []
    for a in single:
        reactions = seen.get((a.slack_channel, a.slack_ts))
        if reactions is None:
            report.unseen += 1
            continue
        now = verdicts(reactions, cfg)
        if now != before.get(a.id, {}):
            changed.append((a, now))
    stored = store.get_articles([a.article_key for a, _ in changed])
    for a, now in changed:
        art = stored.get(a.article_key)
        title, text = (art.article.title, art.article.text) if art else (a.title, a.evidence)
        written, removed = store.apply_reactions(a, now, title, text)
        report.written += written
        report.removed += removed
    if report.problem:
        logger.warning("labels: %s", report.problem)
    if report.written or report.removed:
        logger.info(
            "labels from Slack reactions: %d stored, %d removed", report.written, report.removed
        )
    return report
