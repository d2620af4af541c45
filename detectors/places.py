"""Country names: whether a trip's named destination is a country.

Why: "President Reagan's trip to Philadelphia" and "a visit to Argentina" parse
alike; without a gazetteer the parser cannot tell a home city from abroad. A
country is abroad for every leader but its own, and a story whose leader
travels to their own country is rare, so a story frame needs a country. Names
come from CLDR (babel) plus the short and historical forms wire copy uses.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ALIASES = (
    "U.S.", "US", "USA", "U.S.A.", "America", "Britain", "Great Britain", "UK", "U.K.",
    "England", "Scotland", "Wales", "Holland", "Soviet Union", "USSR", "U.S.S.R.",
    "West Germany", "East Germany", "Czechoslovakia", "Yugoslavia", "Burma", "Zaire",
    "Ivory Coast", "Vatican", "the Vatican", "Palestine", "North Korea", "South Korea",
    "Taiwan", "Hong Kong", "Macau", "Kosovo", "Congo", "Gaza",
)  # fmt: skip


def _key(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"\s*\(.*?\)", "", name)  # "Myanmar (Burma)"
    return re.sub(r"^the\s+", "", name.strip().lower())


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from babel import Locale

    names = [n for code, n in Locale("en").territories.items() if code.isalpha()]
    return frozenset(map(_key, (*names, *_ALIASES)))


def is_country(place: str) -> bool:
    """ "Argentina", "the U.S.", "the Soviet Union": yes; "Philadelphia": no."""
    return _key(place) in _countries()
