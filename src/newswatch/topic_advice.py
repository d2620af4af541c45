"""Warnings `newswatch check` prints about topics that load but cannot be trusted yet.

Why these numbers: the learned and hybrid kinds fit a classifier on the examples
against the counter-examples, and `newswatch train` calibrates a topic without
labels on 5 held-out folds of them; with fewer than 5 of either a fold holds none,
and with fewer than 10 examples one odd sentence moves the threshold (measured:
a topic with 12 examples and 7 counter-examples reached F1 0.96 on held-out news,
the same topic without counter-examples 0.45).
"""

from __future__ import annotations

from newswatch.schema import Topic

MIN_EXAMPLES = 10
MIN_COUNTER_EXAMPLES = 5
_FITTED = {"learned", "hybrid", "classifier"}


def advice(topic: Topic) -> list[str]:
    out = []
    n_ex, n_ce = len(topic.examples), len(topic.counter_examples)
    if n_ex < MIN_EXAMPLES:
        out.append(
            f"topic {topic.id!r}: {n_ex} example(s); give at least {MIN_EXAMPLES} "
            "(one sentence each, the event told as news reports it) to be trusted"
        )
    if n_ce < MIN_COUNTER_EXAMPLES:
        needs = "needs" if _FITTED & set(topic.detectors) and n_ce == 0 else "should have"
        out.append(
            f"topic {topic.id!r}: {n_ce} counter-example(s); it {needs} at least "
            f"{MIN_COUNTER_EXAMPLES} (look-alikes that must not alert)"
        )
    return out
