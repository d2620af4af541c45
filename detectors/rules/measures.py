"""English rules for measures a story opens with (sanctions framed by a tariff dispute).

Used by the hybrid (and learned) detectors through `central_any`; golden tests in
tests/test_detectors.py pin the decisions; it reads English text only.
"""

from __future__ import annotations

import re

from newswatch.detectors.frames import told_as_history
from newswatch.detectors.lexicon import PhraseSet
from newswatch.detectors.places import countries_in

RECALLED = re.compile(r"(?i)\b(?:already|previously|in the past)\b")


def own_measure(sentence: str, parties: set[str], event: PhraseSet) -> bool:
    """The sentence is about the opening's dispute: it names no country outside
    `parties` (those the opening names), and the clause with the event word is not
    background ("has already used sanctions", "previously sanctioned", "since 2022").

    Countries and nationalities only: a city is mostly where something was said.
    """
    for clause in re.split(r"[,;:]|\bbut\b", sentence):
        if event.occurs_in(clause) and (told_as_history(clause) or RECALLED.search(clause)):
            return False
    return countries_in(sentence, cities=False) <= parties
