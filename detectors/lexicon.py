"""Phrase lists as analysts write them, compiled once into one regex.

Syntax (case-insensitive, whole words): `sanction*` matches any word starting with
"sanction"; spaces match any run of whitespace/hyphens ("prime minister" also
finds "prime-minister"); everything else is literal. Kept tiny on purpose: a
topic file must stay readable by a non-programmer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


def _phrase_pattern(phrase: str) -> str:
    words = phrase.strip().split()
    parts = []
    for w in words:
        star = w.endswith("*")
        core = re.escape(w.rstrip("*"))
        parts.append(core + (r"[\w'-]*" if star else ""))
    body = r"[\s-]+".join(parts)
    return rf"(?<![\w-]){body}(?![\w])"


@dataclass(frozen=True)
class PhraseSet:
    """A compiled list of phrases; `find` returns the phrases (as written) that occur."""

    phrases: tuple[str, ...]
    regex: re.Pattern[str] | None
    stems: tuple[str, ...] = ()  # lower-case literal start of each phrase: a cheap pre-test

    @classmethod
    def of(cls, phrases: Iterable[str]) -> PhraseSet:
        items = tuple(p.strip() for p in phrases if p and p.strip())
        if not items:
            return cls((), None)
        alts = "|".join(f"(?P<p{i}>{_phrase_pattern(p)})" for i, p in enumerate(items))
        stems = tuple(p.split()[0].rstrip("*").lower() for p in items)
        return cls(items, re.compile(alts, re.IGNORECASE), stems)

    def _maybe_in(self, text: str) -> bool:
        """False when no phrase can occur (no phrase's first word is a substring)."""
        low = text.lower()
        return any(stem in low for stem in self.stems)

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def find(self, text: str) -> list[str]:
        """Distinct phrases found in `text`, in order of first occurrence."""
        if self.regex is None or not self._maybe_in(text):
            return []
        seen: dict[str, None] = {}
        for m in self.regex.finditer(text):
            seen.setdefault(self.phrases[int(m.lastgroup[1:])], None)  # type: ignore[index]
        return list(seen)

    def matched(self, text: str) -> list[str]:
        """Distinct words as written that matched, lower-cased: "retaliation", "curbs"."""
        if self.regex is None or not self._maybe_in(text):
            return []
        return list(dict.fromkeys(m.group(0).lower() for m in self.regex.finditer(text)))

    def occurs_in(self, text: str) -> bool:
        """Whether any phrase occurs: stops at the first hit (the gate's test)."""
        if self.regex is None or not self._maybe_in(text):
            return False
        return self.regex.search(text) is not None

    def count(self, text: str) -> int:
        return 0 if self.regex is None else sum(1 for _ in self.regex.finditer(text))
