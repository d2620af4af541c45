"""Who is who inside one article: names carry the title they were introduced with.

Why: news introduces a person once ("French Prime Minister Jacques Chirac") and
then uses the bare name ("Chirac said ..."). A sentence that decides an event
topic often holds only the bare name, so neither the lexical guards (which look
for a title such as "prime minister") nor the sentence embedding (which cannot
know that Chirac is a head of government and Shultz a minister) see the actor's
role. `ActorIndex` learns, per document, name -> title from the introductions
and `expand` rewrites a sentence with the title in front of each bare name:
"Chirac said ..." -> "Prime Minister Chirac said ...". No world knowledge, no
name lists: only what the article itself says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

# Head nouns of titles, longest first so "secretary of state" wins over "secretary".
_HEADS = (
    "prime minister",
    "deputy prime minister",
    "supreme leader",
    "undersecretary of state",
    "secretary of state",
    "undersecretary",
    "secretary-general",
    "secretary general",
    "crown prince",
    "vice president",
    "vice-president",
    "head of state",
    "president",
    "premier",
    "chancellor",
    "king",
    "queen",
    "emperor",
    "emir",
    "sultan",
    "pope",
    "leader",
    "minister",
    "secretary",
    "ambassador",
    "envoy",
    "governor",
    "chairman",
    "chairwoman",
    "director",
    "senator",
    "spokesman",
    "spokeswoman",
    "commissioner",
    "representative",
    "negotiator",
    "chief",
    "general",
    "prince",
    "princess",
    "deputy",
    "statesman",
)
_HEAD = "|".join(re.escape(h).replace(r"\ ", r"[\s-]+") for h in _HEADS)
# Up to three capitalised modifiers before the head: "West German", "U.S. Trade", "Oil".
_MODS = r"(?:(?:[A-Z(][\w.'()-]*|of|the)\s+){0,3}"
_PARTICLES = ("von", "van", "der", "de", "da", "del", "bin", "ibn", "al", "el", "la", "le")
# One capitalised token, then more, each perhaps after a lower-case particle ("da Silva")
# or an initial ("George W Bush").
_NAME_PART = r"[A-Z][\w'-]+"
_NEXT_PART = rf"\s+(?:(?:{'|'.join(_PARTICLES)})\s+)?(?:[A-Z]\.?\s+)?{_NAME_PART}"
# A name: 1-4 capitalised tokens.
_NAME = rf"(?P<name>{_NAME_PART}(?:{_NEXT_PART}){{0,3}})"
_INTRO = re.compile(rf"(?<![\w-])(?P<title>{_MODS}(?i:{_HEAD}))\s+{_NAME}")
# "Weizsaecker, the West German president," -> appositive introduction; but "the United
# States, where he met President Bush" is a clause, not a title.
_CLAUSE_WORDS = r"(?i:where|when|who|whom|which|while|he|she|they|it|and|but|met|said|says|told)\b"
_APPOSITIVE = re.compile(
    rf"(?<![\w-]){_NAME},\s+(?:the\s+|a\s+)?"
    rf"(?P<title>(?:(?!{_CLAUSE_WORDS})[\w.'-]+\s+){{0,3}}?(?i:{_HEAD}))\b"
)
# The text right before a name that already gives its title: "President Ronald ".
_INTRODUCED = re.compile(rf"(?<![\w-])(?i:{_HEAD})(?:\s+[A-Z][\w'-]*){{0,3}}\s+$")
_NAME_RUN = re.compile(rf"(?<![\w-]){_NAME_PART}(?:{_NEXT_PART})*")
_TITLE_RIGHT_BEFORE = re.compile(rf"(?<![\w-])(?i:{_HEAD})\s+$")
# In British news "the chancellor" is the Chancellor of the Exchequer, a minister.
_EXCHEQUER = re.compile(r"(?i)\bexchequer\b")
_BRITISH = re.compile(r"\b(?:UK|U\.K\.|Britain|British|Downing Street|Treasury|Whitehall)")
_GERMANIC = re.compile(r"\b(?:German[sy]?|Austrian?|Berlin|Vienna|Bonn|Bundestag)\b")
_CHANCELLOR = re.compile(r"(?i)\bchancellor\b(?:\s+of\s+the\s+exchequer)?")
# A sentence opening on "He"/"She" most often continues about the story's main actor.
_PRONOUN = re.compile(r"^(?:He|She)(?=\s)")
_HONORIFIC_START = re.compile(r"^(?:Mr|Mrs|Ms|Dr)\.?\s+")
_HEAD_WORD = re.compile(rf"(?<![\w-])(?i:{_HEAD})(?![\w-])")
_HONORIFIC_END = re.compile(r"\b(?:Mr|Mrs|Ms|Dr)\.?\s+$")
# Capitalised words that are never a person's name in this position.
_NOT_NAMES = {
    "The", "A", "An", "He", "She", "It", "They", "We", "I", "Mr", "Mrs", "Ms", "On", "In", "At",
    "And", "But", "For", "To", "Of", "As", "By", "With", "After", "Before", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Said", "Says", "Will", "Would",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Sheikh", "Meanwhile", "However",
}  # fmt: skip


# Heads that mean "head of state" only when no organisation stands before/after them.
_ORG_HEADS = r"president|chairman|chairwoman|leaders?|chief"
_ORG_WORD = (
    r"Bank|Fund|Institute|Board|Council|Company|Corp\w*|Inc|Group|Association|Federation|"
    r"Committee|Commission|Conference|Party|Club|League|Organi[sz]ation|Exchange|University|College|"
    r"Airlines?|Motors|Chamber|Authority|Agency|Foundation|Society|Trust|Ltd|Plc|Co|Bureau|"
    r"Congress|Senate|Court|Assembly|Parliament|Duma|Knesset|Bundestag|Federal Reserve|Fed|"
    r"Reserve|Mission|Markets?|Trade|Labour|Labor|"
    r"Conservative|Democrat|Democratic|Republican|Liberal|Tory"
)
# Lower-case only: "union leaders", not "European Union leaders".
_ORG_LOWER = "union|" + "|".join(
    f"[{w[0].upper()}{w[0]}]{w[1:]}"  # "Opposition leader ..." at the start of a headline
    for w in ("opposition", "rebel", "business", "political", "community", "religious")
    + ("student", "church", "tribal", "militia", "faction", "majority", "minority", "party")
)
# An acronym that is a country, not an organisation.
_STATE_BLOCS = {"EU", "EC", "NATO", "ASEAN", "G7", "G8", "G20", "BRICS", "OPEC", "AU", "SCO"}
# Short words of a shouted headline that are not acronyms: "SHULTZ TO HEAD".
_SHOUTED_WORDS = {
    "TO", "FOR", "IN", "ON", "OF", "AT", "BY", "AND", "THE", "A", "AN", "SAYS", "SAID", "SEES",
    "MAY", "CAN", "NEW", "NOT", "NO", "WILL", "MEETS", "MET", "WITH", "AS", "TOP", "EX", "OLD",
    "ASKS", "URGES", "BACKS", "NAMES", "WINS", "OUT", "UP", "OVER", "AFTER", "TALKS", "VISIT",
}  # fmt: skip
_STATE_ACRONYMS = {"U.S.", "US", "U.K.", "UK", "UAE", "USSR", "U.S.S.R.", "DPRK", "PRC", "ROK"}
_ORG_BEFORE = re.compile(
    rf"(?P<org>(?:\b(?i:{_ORG_WORD})\b|\b(?:{_ORG_LOWER})\b|\(?\b[A-Z]{{2,5}}\b\)?)(?:'s)?)\s+"
    rf"(?P<head>(?i:{_ORG_HEADS}))\b"
)
_ORG_AFTER = re.compile(
    rf"\b(?P<head>(?i:{_ORG_HEADS}))\s+of\s+(?:the\s+)?(?P<org>(?:[A-Z][\w.'-]*\s+){{0,4}}"
    rf"(?i:{_ORG_WORD})\b)"
)
_POSSESSIVE = re.compile(r"['\u2019]s$")
_VICE = re.compile(
    r"(?i)\b(vice|deputy|(?:former|ex)(?:[\s-]+(?:[A-Z][\w.'-]*|the))?)[\s-]+"  # "former U.S."
    r"(president|prime minister|premier|chancellor)"
)


def _bare(name: str) -> str:
    """A name part without its possessive: "Nakasone's" -> "Nakasone"."""
    return _POSSESSIVE.sub("", name)


def neutralise_titles(text: str) -> str:
    """Organisation heads and deputies lose the head-of-state word: "IBC president" -> "IBC chief".

    Only for judging: a coffee institute's president or a vice president is not a
    head of state, and the guards and the model both read "president" as one.
    """

    shouting = text.isupper()  # a wire headline: every word looks like an acronym

    def org_before(m: re.Match[str]) -> str:
        org = m.group("org").strip("()").rstrip("'s")
        if org in _STATE_ACRONYMS or (shouting and org in _SHOUTED_WORDS):
            return m.group(0)
        if m.group("org").strip("()") in _STATE_BLOCS and m.group("head").lower() == "leaders":
            return m.group(0)  # "EU leaders" are heads of government
        return f"{m.group('org')} chief"

    text = _ORG_BEFORE.sub(org_before, text)
    text = _ORG_AFTER.sub(lambda m: f"chief of {m.group('org')}", text)
    return _VICE.sub(
        lambda m: "former statesman" if m.group(1).lower()[:2] in ("fo", "ex") else "deputy", text
    )


def _title_case(title: str) -> str:
    words = title.split()
    return " ".join(
        w if w.isupper() and len(w) > 1 else w.lower() if w.lower() == "of" else w.capitalize()
        for w in words
    )


@dataclass(frozen=True)
class ActorIndex:
    """name token -> the title (head phrase, e.g. "Prime Minister") it was introduced with."""

    titles: dict[str, str]
    regex: re.Pattern[str] | None
    lead: str = ""  # "Title Name" of the first person the text introduces
    british: bool = False  # British usage: "the chancellor" is the finance minister
    shouted: dict[str, str] = field(default_factory=dict)  # "CHIRAC" -> its title
    origins: dict[str, str] = field(default_factory=dict)  # "Zelensky" -> "Ukrainian"

    @classmethod
    def of(cls, *texts: str, known: tuple[str, ...] = ()) -> ActorIndex:
        """The index of `texts`; `known` introductions ("Russian President Vladimir Putin")
        title the names the texts use but never introduce: "Putin arrived in Pyongyang".
        The texts' own introductions win, and a name the texts call "former" stays bare.
        """
        if known:
            return _known_index(known).merge_into(cls._of(texts), " ".join(texts))
        return cls._of(texts)

    @classmethod
    def _of(cls, texts: tuple[str, ...], min_len: int = 3) -> ActorIndex:
        british = any(_EXCHEQUER.search(t) for t in texts) or (
            any(_BRITISH.search(t) for t in texts) and not any(_GERMANIC.search(t) for t in texts)
        )
        found: dict[str, set[str]] = {}
        origins: dict[str, str] = {}  # the words before the title: "West German", "U.S."
        introduced: list[str] = []  # "Title Surname" in order of introduction
        for text in map(neutralise_titles, texts):
            intros = list(_INTRO.finditer(text)) + list(_APPOSITIVE.finditer(text))
            for m in sorted(intros, key=lambda m: m.start()):
                head = re.search(rf"(?i:{_HEAD})$", m.group("title").strip())
                if head is None:
                    continue
                title = _title_case(re.sub(r"[\s-]+", " ", head.group(0)))
                raw = []
                for t in m.group("name").split():  # "Kim Jong-un's Russia visit": Kim Jong-un
                    raw.append(_bare(t))
                    if raw[-1] != t:
                        break
                if any(t in ("bin", "ibn") for t in raw):  # "Zaid bin Sultan": Zaid
                    raw = raw[: [t in ("bin", "ibn") for t in raw].index(True)]
                tokens = [t for t in raw if t.lower() not in _PARTICLES]
                tokens = [t for t in tokens if t not in _NOT_NAMES and len(t) >= min_len]
                if not tokens:
                    continue
                # any part may come back alone: "Lula" for "Luiz Inacio Lula da Silva",
                # "Kim" for "Kim Jong-un"; a part two people share is dropped below
                origin = m.group("title").strip()[: head.start()].strip(" ,")
                for tok in tokens:
                    found.setdefault(tok, set()).add(title)
                    if origin:
                        origins.setdefault(tok, origin)
                introduced.append(f"{title} {tokens[-1]}")
        titles = {n: next(iter(t)) for n, t in found.items() if len(t) == 1}
        return cls._indexed(titles, introduced[0] if introduced else "", british, origins)

    @classmethod
    def _indexed(
        cls, titles: dict[str, str], lead: str, british: bool, origins: dict[str, str]
    ) -> ActorIndex:
        if not titles:
            return cls({}, None, lead, british, origins=origins)
        alts = "|".join(
            sorted((re.escape(n) for n in titles), key=len, reverse=True)
            + sorted((re.escape(n.upper()) for n in titles), key=len, reverse=True)
        )
        regex = re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])")
        shouted = {n.upper(): t for n, t in titles.items()}
        return cls(titles, regex, lead, british, shouted, origins)

    def merge_into(self, doc: ActorIndex, text: str) -> ActorIndex:
        """`doc` plus this (known) index's titles for the names `text` uses bare, and
        their nationality where `text` gives the same title without one."""
        if self.regex is None:
            return doc
        named = {m.group(0) for m in self.regex.finditer(text)} & self.titles.keys()
        bare = {n for n in named - doc.titles.keys() if not _former(n, text)}
        same = {n for n in named & doc.titles.keys() if doc.titles[n] == self.titles[n]}
        origins = {n: self.origins[n] for n in bare | same if n in self.origins}
        if not bare and not origins.keys() - doc.origins.keys():
            return doc
        titles = {**doc.titles, **{n: self.titles[n] for n in bare}}
        lead = doc.lead
        if not lead and bare:  # the story's first named person leads
            first = min(bare, key=text.find)
            lead = f"{titles[first]} {first}"
        return ActorIndex._indexed(titles, lead, doc.british, {**origins, **doc.origins})

    def origin_of(self, text: str) -> str:
        """What introduced the first known name in `text`: "Ukrainian" for "President Zelensky"."""
        for word in re.findall(r"[\w'-]+", text):
            if origin := self.origins.get(_bare(word)):
                return origin
        return ""

    def title_of(self, name: str) -> str | None:
        """The title of a known name part, as written or shouted ("CHIRAC"), or possessive."""
        name = _bare(name)
        return self.titles.get(name) or self.shouted.get(name)

    def expand(self, sentence: str, resolve_pronoun: bool = True) -> str:
        """`sentence` with each bare known name preceded by its title, titles neutralised."""
        sentence = neutralise_titles(sentence)
        if self.lead and resolve_pronoun:
            sentence = _PRONOUN.sub(self.lead, sentence, count=1)
        if self.regex is not None:
            sentence = self._title_names(sentence)
        # British usage last, so titles put in front of names read the same way
        return _CHANCELLOR.sub("finance minister", sentence) if self.british else sentence

    def _title_names(self, sentence: str) -> str:
        shouting = sentence.isupper()  # "PRESIDENT SAYS SHULTZ": every word looks like a name
        # a whole name ("George Bush") is titled once, before it, by any known part of it
        spans = self.regex.finditer(sentence) if shouting else _NAME_RUN.finditer(sentence)
        out: list[str] = []
        last = 0
        for m in spans:
            name = m.group(0)
            title = next(filter(None, map(self.title_of, name.split())), None)
            before = sentence[max(0, m.start() - 80) : m.start()]
            if title is None or (_TITLE_RIGHT_BEFORE if shouting else _INTRODUCED).search(before):
                continue  # unknown, or already introduced here ("President Ronald Reagan")
            if not shouting and _HEAD_WORD.search(name):
                continue  # the run carries its own title ("Prime Minister Jacques Chirac")
            name = _HONORIFIC_START.sub("", name)  # "Mr Brown" -> "Chancellor Brown"
            head = _HONORIFIC_END.sub("", sentence[last : m.start()])
            out += [head, f"{title} {name}"]
            last = m.end()
        out.append(sentence[last:])
        return "".join(out)


def known_titles(known: tuple[str, ...]) -> dict[str, str]:
    """Name part -> title, from a topic's known introductions."""
    return _known_index(known).titles if known else {}


@lru_cache(maxsize=8)
def _known_index(known: tuple[str, ...]) -> ActorIndex:
    """The index of a topic's known people: each line's last name, or the bare forms it
    lists in brackets ("Chinese President Xi Jinping (Xi)"). Only those: a first name
    ("Donald") belongs to many people."""
    titles: dict[str, str] = {}
    origins: dict[str, str] = {}
    for line in known:
        m = re.fullmatch(r"(?P<intro>[^()]*?)\s*(?:\((?P<bare>[^()]*)\))?\s*", line)
        intro, bare = (m["intro"], m["bare"]) if m else (line, None)
        one = ActorIndex._of((intro,), min_len=2)
        if not one.lead:
            continue
        title, surname = one.lead.rsplit(" ", 1)
        names = [b.strip() for b in (bare or "").split(",") if b.strip()] or [surname]
        for name in names:
            titles[name] = title
            if one.origins.get(surname):
                origins[name] = one.origins[surname]
    return ActorIndex._indexed(titles, "", False, origins)


def _former(name: str, text: str) -> bool:
    """ "former President Donald Trump", "ex-leader Trump": the text says they no longer hold it."""
    return bool(re.search(rf"(?i)\b(?:former|ex-)(?:\W+\w+){{0,4}}?\W+{re.escape(name)}\b", text))
