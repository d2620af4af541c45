"""Lexical guards: the analyst's own words decide, and say which rule fired.

A passage *qualifies* when one of its sentences contains a `require_any` phrase
and at least one alias of every `entities` role (e.g. a head-of-state title),
and the passage contains no `exclude_any` phrase. Sentence-level co-occurrence
is what turns "a president" + "a visit" into "the president visits".
As a detector of its own it matches when any passage qualifies; the hybrid kind
uses the same guards as a cheap gate before any model looks at the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newswatch.detectors.actors import known_titles
from newswatch.detectors.base import Batch, Detector, Document
from newswatch.detectors.lexicon import PhraseSet
from newswatch.models import Decision, Evidence
from newswatch.passages import sentences
from newswatch.schema import Topic


@dataclass(frozen=True)
class PassageCheck:
    qualifies: bool
    required: list[str] = field(default_factory=list)  # require_any phrases found
    roles: dict[str, list[str]] = field(default_factory=dict)  # entity role -> aliases found
    excluded: list[str] = field(default_factory=list)  # exclude_any phrases found

    def describe(self) -> str:
        if self.excluded:
            return "exclude_any: " + ", ".join(self.excluded)
        bits = []
        if self.required:
            bits.append("require_any: " + ", ".join(self.required))
        bits += [f"{role}: {', '.join(found)}" for role, found in self.roles.items() if found]
        return "; ".join(bits)


class Guards:
    """Compiled require_any / exclude_any / entities of one topic."""

    def __init__(self, topic: Topic) -> None:
        self.require = PhraseSet.of(topic.require_any)
        self.exclude = PhraseSet.of(topic.exclude_any)
        self.roles = {role: PhraseSet.of(aliases) for role, aliases in topic.entities.items()}
        # known people stand in for a role their title fits ("Putin" for a president*)
        titles = known_titles(topic.known_people)
        self.known = {
            role: PhraseSet.of(n for n, title in titles.items() if ps.occurs_in(title))
            for role, ps in self.roles.items()
        }

    def sentence_ok(self, sent: str) -> bool:
        return self._sentence_ok(sent) is not None

    def _sentence_ok(self, sent: str) -> tuple[list[str], dict[str, list[str]]] | None:
        req = self.require.find(sent) if self.require else []
        if self.require and not req:
            return None
        roles = {role: ps.find(sent) for role, ps in self.roles.items()}
        if not all(roles.values()):
            return None
        return req, roles

    def check(self, passage: str) -> PassageCheck:
        if not self.require and not self.roles:
            hit: tuple[list[str], dict[str, list[str]]] | None = ([], {})
        else:
            hit = next(filter(None, map(self._sentence_ok, sentences(passage) or [passage])), None)
        if hit is None:
            return PassageCheck(False)
        excluded = self.exclude.find(passage)
        return PassageCheck(not excluded, hit[0], hit[1], excluded)

    def key_words(self, text: str) -> tuple[str, ...]:
        """The words of `text`, as written, that the event phrases and entity roles match."""
        words = [*self.require.matched(text)]
        for role in self.roles.values():
            words += role.matched(text)
        return tuple(dict.fromkeys(words))

    def quick_reject(self, doc: Document) -> bool:
        """True when no passage can qualify: a cheap whole-text test before sentence checks."""
        text = f"{doc.title}\n{doc.text}"
        if self.require and not self.require.occurs_in(text):
            return True
        return any(
            not ps.occurs_in(text) and not self.known[role].occurs_in(text)
            for role, ps in self.roles.items()
        )

    def checks(self, doc: Document) -> list[PassageCheck]:
        if self.quick_reject(doc):
            return [PassageCheck(False) for _ in doc.passages]
        return [self.check(p) for p in doc.passages]


class LexicalDetector(Detector):
    kind = "lexical"
    needs_passage_vectors = False

    def __init__(self, topic, embedder) -> None:
        super().__init__(topic, embedder)
        self.guards = Guards(topic)

    def gate(self, doc: Document) -> bool:
        return not self.guards.quick_reject(doc)

    def judge(self, doc: Document) -> Decision:
        checks = self.guards.checks(doc)
        for i, c in enumerate(checks):
            if c.qualifies:
                return Decision(
                    1.0,
                    True,
                    evidence=Evidence(
                        doc.passages[i],
                        passage=i,
                        highlights=self.guards.key_words(doc.passages[i]),
                    ),
                    detector=self.kind,
                    guard=c.describe(),
                )
        vetoed = next((c for c in checks if c.excluded), None)
        guard = vetoed.describe() if vetoed else "require_any: no phrase found"
        return self.no_match(guard=guard)

    def detect(self, batch: Batch) -> list[Decision]:
        return [self.judge(doc) for doc in batch.docs]
