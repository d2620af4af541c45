"""Events: outlets' write-ups of one happening become one alert with a living thread.

`facts` reads what a write-up says about its happening (who, where, stage, when),
`rule` decides whether two write-ups are one event (a model fitted on labelled
groups by `benchmarks/events.py --fit`). The decision itself is taken in the store
(`EventStore.enqueue_event_alert`), under a per-topic lock, so concurrent passes agree.
"""

from newswatch.events.facts import EventFacts, development, facts_of, signature_text, stage_of
from newswatch.events.rule import EventRule, Member, default_rule, pair_features

__all__ = [
    "EventFacts",
    "EventRule",
    "Member",
    "default_rule",
    "development",
    "facts_of",
    "pair_features",
    "signature_text",
    "stage_of",
]
