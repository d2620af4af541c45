"""English rules for trips: is a role-holder's trip abroad, at home, a story's frame?

Used by the hybrid (and learned) detectors on topics with entity roles (leader visits).
Each rule's decisions are pinned by golden tests (tests/test_detectors.py,
tests/test_actors_frames.py); it reads English text only.
"""

from __future__ import annotations

import re

from newswatch.detectors.actors import ActorIndex
from newswatch.detectors.frames import Frame, is_travel
from newswatch.detectors.places import countries_in, country_of, is_country, nationality_in


def story_frame(frame: Frame, protagonists: list[str], actors: ActorIndex, opening: str) -> bool:
    """A role-holder the story opens with travels to another country, now."""
    return bool(
        frame.role
        and frame.place
        and not frame.background
        and any(re.search(rf"\b{re.escape(n)}\b", frame.agent) for n in protagonists)
        and abroad(frame, actors, opening)
    )


def abroad(frame: Frame, actors: ActorIndex, opening: str) -> bool:
    """The destination is a country; or, for a traveller whose nationality the story
    gives, a city of another country reached by a verb ("Ruto, who arrived in Kampala");
    or "here", the dateline's place, which wire copy strips: the opening names it
    ("motorcade to La Paz"), so a country the opening names besides home counts.

    A noun trip to a city is not enough: "Thatcher's successful trip to Moscow",
    recalled in a story about elections, reads like a current trip (measured: one
    false positive on the dev sets).
    """
    if is_country(frame.place):
        return True
    home = home_country(frame, actors)
    if not home:
        return False
    if frame.place == "here":
        return bool(countries_in(opening) - {home})
    there = country_of(frame.place) if frame.verbal else None
    return there is not None and there != home


def home_country(frame: Frame, actors: ActorIndex) -> str | None:
    """The traveller's country, when the sentence or the story's introduction says it."""
    return nationality_in(frame.agent) or nationality_in(actors.origin_of(frame.agent))


def domestic(frame: Frame, actors: ActorIndex, opening: str) -> bool:
    """A role-holder travels, and every place the sentence names is in their own country.

    "Ukrainian President Zelensky visited troops near Kharkiv", "Biden toured a
    factory in Ohio": a leader at home; "began a visit here" when the opening names
    only home. A named place we cannot locate, or an unknown nationality: not
    domestic. Other proper nouns count when they are known places (the recogniser
    misses some: "flood-hit Mombasa").
    """
    if not (frame.role and is_travel(frame.trigger)):
        return False
    home = home_country(frame, actors)
    if frame.place == "here":
        return home is not None and countries_in(opening) == {home}
    places = [*frame.where, *(n for n in frame.names if country_of(n))]
    if not places:
        return False
    return home is not None and all(country_of(p) == home for p in places)
