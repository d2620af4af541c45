"""The monitoring pass as a Prefect flow: each stage of `run_pass` runs as a task."""

from __future__ import annotations

import contextlib

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import load_config
from newswatch.delivery import deliver_pending
from newswatch.pass_ import Stages, run_pass
from newswatch.pass_.analyse import analyse
from newswatch.pass_.enqueue import record_and_enqueue
from newswatch.pass_.fetch import fetch_articles
from newswatch.pass_.poll import poll_sources
from newswatch.pass_.stats import DeliveryBlocked
from newswatch.report import pass_markdown

TASKS = Stages(
    poll=task(poll_sources, name="poll-sources", cache_policy=NO_CACHE),
    fetch=task(fetch_articles, name="fetch-articles", cache_policy=NO_CACHE),
    analyse=task(analyse, name="analyse", cache_policy=NO_CACHE),
    record=task(record_and_enqueue, name="record-and-enqueue", cache_policy=NO_CACHE),
    deliver=task(deliver_pending, name="deliver", cache_policy=NO_CACHE),
)


@flow(name="newswatch-pass", log_prints=False)
def monitor_pass(
    config_dir: str | None = None, shard: str | None = None, alerts_jsonl: str | None = None
) -> dict:
    """One pass over every (or this shard's) source; returns the pass summary.

    Ends Failed (DeliveryBlocked, after the pass is recorded) when nothing could be
    delivered because of a fault the operator must fix; source failures alone do not.
    """
    config = load_config(config_dir)
    stats = run_pass(
        config, shard=shard, alerts_jsonl=alerts_jsonl, stages=TASKS, logger=get_run_logger()
    )
    with contextlib.suppress(Exception):  # an artifact is a nicety; never fail a pass for it
        create_markdown_artifact(
            key="newswatch-pass", markdown=pass_markdown(stats), description="newswatch pass"
        )
    if stats.delivery_blocked:
        raise DeliveryBlocked(stats.as_dict())
    return stats.as_dict()
