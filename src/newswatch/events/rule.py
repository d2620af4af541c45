"""Are two write-ups one happening? A small logistic model over event facts, fitted by
`benchmarks/events.py --fit` on labelled event groups and shipped as `rule.json`.

Pair features (a new write-up against one earlier write-up of an event):
- `cos`: cosine of their headline+evidence embeddings (different wording, same story);
- `places`: Jaccard overlap of the countries involved (0 when either names none);
  `places_conflict`: both name countries, none shared; `places_few`: both name
  countries and fewer than half are shared (the reporting country alone in common);
- `actors`: they name a common protagonist; `actors_conflict`: both name people and
  none is shared ("two different leaders");
- `when`: days between the dates the happening is set for, over 30 (capped at 2):
  "the same leader's trips a month apart" are two events, "announced vs held" is one;
- `at`: days between the write-ups, over 30 (capped at 2).
A write-up joins the event whose closest member gives P(same) >= `threshold`; a
near-duplicate copy (same story) always joins. Members older than `window_days`
are not considered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from newswatch.events.facts import EventFacts

FEATURES = (
    "cos", "places", "places_conflict", "places_few", "actors", "actors_conflict", "when", "at",
)  # fmt: skip
RULE_FILE = Path(__file__).with_name("rule.json")


@dataclass(frozen=True)
class Member:
    """One earlier write-up of an event, as the store keeps it."""

    event_id: str
    story_id: str
    facts: EventFacts
    vector: np.ndarray


def _days(a, b) -> float:
    if a is None or b is None:
        return 0.0
    return abs((a - b).total_seconds()) / 86400.0


def pair_features(
    fa: EventFacts, va: np.ndarray, fb: EventFacts, vb: np.ndarray
) -> dict[str, float]:
    cos = float(va @ vb) if va.size and va.shape == vb.shape else 0.0
    pa, pb = set(fa.places), set(fb.places)
    aa, ab = set(fa.actors), set(fb.actors)
    return {
        "cos": cos,
        "places": len(pa & pb) / len(pa | pb) if pa and pb else 0.0,
        "places_conflict": float(bool(pa and pb and not pa & pb)),
        "places_few": float(bool(pa and pb and len(pa & pb) / len(pa | pb) < 0.5)),
        "actors": float(bool(aa & ab)),
        "actors_conflict": float(bool(aa and ab and not aa & ab)),
        "when": min(_days(fa.when, fb.when) / 30.0, 2.0),
        "at": min(_days(fa.at, fb.at) / 30.0, 2.0),
    }


@dataclass(frozen=True)
class EventRule:
    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    window_days: float = 45.0
    fitted_on: str = ""
    figures: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = RULE_FILE) -> EventRule:
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            weights={k: float(d["weights"][k]) for k in FEATURES},
            bias=float(d["bias"]),
            threshold=float(d.get("threshold", 0.5)),
            window_days=float(d.get("window_days", 45.0)),
            fitted_on=d.get("fitted_on", ""),
            figures=d.get("figures", {}),
        )

    def save(self, path: Path = RULE_FILE) -> None:
        d = {
            "weights": {k: round(self.weights[k], 4) for k in FEATURES},
            "bias": round(self.bias, 4),
            "threshold": round(self.threshold, 3),
            "window_days": self.window_days,
            "fitted_on": self.fitted_on,
            "figures": self.figures,
        }
        path.write_text(json.dumps(d, indent=2) + "\n", encoding="utf-8")

    def probability(self, feats: dict[str, float]) -> float:
        z = self.bias + sum(self.weights[k] * feats[k] for k in FEATURES)
        return 1.0 / (1.0 + math.exp(-z))

    def assign(
        self, facts: EventFacts, vector: np.ndarray, story_id: str, members: Sequence[Member]
    ) -> tuple[str | None, float]:
        """The event this write-up belongs to (None: a new one) and P(same) that decided it."""
        best, best_p = None, 0.0
        for m in members:
            if _days(facts.at, m.facts.at) > self.window_days:
                continue
            if story_id and m.story_id == story_id:
                return m.event_id, 1.0  # a copy of a story already in the event
            p = self.probability(pair_features(facts, vector, m.facts, m.vector))
            if p > best_p:
                best, best_p = m.event_id, p
        return (best, best_p) if best_p >= self.threshold else (None, best_p)


@lru_cache(maxsize=1)
def default_rule() -> EventRule:
    return EventRule.load()
