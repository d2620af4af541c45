"""What one write-up says about its happening: who, where, what stage, when.

Outlets word one event differently, so grouping cannot rest on text similarity
alone. The hybrid detector names the people the story is about and the countries
involved (`Evidence.actors` / `Evidence.places`); here we add the event's stage
("planned", "held", "cancelled", "threatened", "imposed", ...) and the date the
happening is set for ("in May", "on April 17", "next week"), read from the
headline and evidence sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newswatch.models import Article, Decision

# Stages, strongest first: a write-up reports the latest one it names.
_STAGES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"(?i)\b(?:{words})"))
    for name, words in (
        (
            "cancelled",
            r"cancel\w*|call(?:s|ed)? off|scrap(?:s|ped)?|abandon\w*|drop(?:s|ped) plans",
        ),
        ("postponed", r"postpone\w*|delay(?:s|ed)? (?:his|her|the|a) (?:visit|trip)|put off"),
        (
            "lifted",
            r"lift(?:s|ed|ing)? (?:the )?(?:sanction|ban|embargo|tariff|curb)\w*|end(?:s|ed)? "
            r"(?:the )?sanction\w*|unfroze\w*|unfrozen",
        ),
        (
            "imposed",
            r"impos(?:es|ed)|slapp?\w* |announc\w* (?:\w+ )?(?:sanction|tariff|curb)|"
            r"(?:sanction|tariff|curb)s? (?:took|take|takes) effect|went into effect|vetoe?d?",
        ),
        (
            "threatened",
            r"threat\w*|warn\w*|consider\w*|may impose|could impose|urg\w*|"
            r"weigh\w*|propos\w*|ready to impose|likely",
        ),
        (
            "held",
            r"arriv\w*|met |meets|landed|held talks|began (?:a|an|his|her)|is visiting|"
            r"was visiting|toured|opened talks",
        ),
        (
            "planned",
            r"will (?:visit|travel|attend|go)|to visit|to attend|plans? to|invit\w*|"
            r"accept\w* an invitation|confirm\w*|expected to",
        ),
    )
)
# Developments worth a channel notification: the event changed course.
DEVELOPMENTS: dict[str, frozenset[str]] = {
    "cancelled": frozenset({"planned", "held", "postponed", ""}),
    "postponed": frozenset({"planned", "held", ""}),
    "imposed": frozenset({"threatened"}),
    "lifted": frozenset({"imposed", "threatened"}),
}

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )  # fmt: skip
    )
}
# Title-case month names only: "may impose" is not May.
_DATE = re.compile(
    r"\b(?:(?P<day1>\d{1,2}) )?(?P<month>"
    + "|".join(m.title() for m in _MONTHS)
    + r")\b(?: (?P<day2>\d{1,2})\b)?"
)
_RELATIVE = {"next week": 7, "next month": 30, "tomorrow": 1, "next year": 365}


@dataclass(frozen=True)
class EventFacts:
    """One write-up's account of its happening; stored with the alert's event membership."""

    actors: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    stage: str = ""
    when: datetime | None = None  # the date the happening is set for (or reported on)
    at: datetime | None = None  # when the write-up appeared

    def as_json(self) -> dict:
        return {
            "actors": list(self.actors),
            "places": list(self.places),
            "stage": self.stage,
            "when": self.when.isoformat() if self.when else None,
            "at": self.at.isoformat() if self.at else None,
        }

    @classmethod
    def from_json(cls, d: dict) -> EventFacts:
        def dt(v: str | None) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        return cls(
            actors=tuple(d.get("actors") or ()),
            places=tuple(d.get("places") or ()),
            stage=d.get("stage") or "",
            when=dt(d.get("when")),
            at=dt(d.get("at")),
        )


def stage_of(text: str) -> str:
    """The latest stage a text names ("" when it names none)."""
    for name, pattern in _STAGES:
        if pattern.search(text):
            return name
    return ""


def event_date(text: str, published: datetime) -> datetime:
    """The date the happening is set for: a named month (and day) at or after publication,
    a relative phrase ("next week"), else the publication date (it is happening now)."""
    m = _DATE.search(text)
    if m:
        month = _MONTHS[m.group("month").lower()]
        day = int(m.group("day1") or m.group("day2") or 15)
        year = published.year + (1 if month < published.month else 0)
        try:
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:  # "May 45": not a date after all
            return published
    low = text.lower()
    for phrase, days in _RELATIVE.items():
        if phrase in low:
            return published + timedelta(days=days)
    return published


def signature_text(article: Article, decision: Decision) -> str:
    """What the event vector embeds: the headline and the evidence sentence."""
    return f"{article.title}. {decision.evidence.text}".strip(". ")


_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def facts_of(article: Article, decision: Decision, now: datetime | None = None) -> EventFacts:
    """The write-up's event facts. Its time is the publication date unless that is
    implausible (pages claim year 1 or 9999; the event window would overflow), then
    when it was fetched, then now."""
    ev = decision.evidence
    clock = _aware(now) or datetime.now(UTC)
    latest = clock + timedelta(days=2)
    candidates = (_aware(article.published), _aware(article.fetched_at))
    at = next((d for d in candidates if d is not None and _EARLIEST <= d <= latest), clock)
    text = f"{article.title}. {ev.text}"
    return EventFacts(
        actors=tuple(ev.actors),
        places=tuple(ev.places),
        stage=stage_of(text),
        when=event_date(text, at),
        at=at,
    )


def development(previous: set[str], stage: str) -> str:
    """The stage, when it changes the course of an event seen at `previous` stages."""
    allowed = DEVELOPMENTS.get(stage)
    if not allowed or stage in previous:
        return ""
    return stage if previous & allowed or "" in allowed else ""
