"""`newswatch label --review`: label the stored articles the model is least sure about.

Stored articles (of a window) are scored with the current scorer, exactly as a pass
would, and shown nearest the topic's threshold first: those are the labels that
teach the most. Articles the reviewer already labelled for the topic are left out.
One key per answer (r / n / s / q); each answer is stored at once, so quitting or a
lost terminal keeps everything answered so far.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.markup import escape

from newswatch.clock import utcnow
from newswatch.models import Label
from newswatch.schema import Config, Topic
from newswatch.store import Store

PROMPT = "(r) relevant  (n) not relevant  (s) skip  (q) quit > "
KEYS = {"r": "relevant", "n": "not relevant", "s": "skip", "q": "quit"}
BATCH = 256


@dataclass(frozen=True)
class Candidate:
    key: str  # canonical URL
    title: str
    text: str
    source: str
    score: float
    matched: bool
    evidence: str
    guard: str


def candidates(
    store: Store,
    config: Config,
    topic: Topic,
    who: str,
    since: datetime | None = None,
    limit: int = 20,
) -> list[Candidate]:
    """The `limit` unlabelled stored articles scored nearest the topic's threshold."""
    from newswatch.runtime import scorer_for  # the model: only when there is something to score

    done = store.labelled_keys(topic.id, who)
    stored = [s.article for s in store.iter_articles(since) if s.article.canonical_url not in done]
    if not stored:
        return []
    scorer = scorer_for(config)
    found: list[Candidate] = []
    for i in range(0, len(stored), BATCH):
        chunk = stored[i : i + BATCH]
        docs = scorer.documents([(a.canonical_url, a.title, a.text) for a in chunk])
        for a, decisions in zip(chunk, scorer.score(docs), strict=True):
            d = decisions[topic.id]
            found.append(
                Candidate(
                    a.canonical_url,
                    a.title,
                    a.text,
                    a.source,
                    float(d.score),
                    bool(d.matched),
                    d.evidence.text,
                    d.guard,
                )
            )
    found.sort(key=lambda c: (abs(c.score - topic.threshold), c.key))
    return found[:limit]


class KeyReader:
    """One key per answer from the terminal (no Enter); a line's first letter when piped.

    The terminal stays in cbreak mode for the whole review (entered without flushing),
    so a key pressed the instant a question appears is never lost.
    """

    def __enter__(self) -> KeyReader:
        self.fd = sys.stdin.fileno() if sys.stdin.isatty() else None
        if self.fd is not None:
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def __call__(self) -> str:
        try:
            if self.fd is not None:
                key = os.read(self.fd, 1).decode("utf-8", "replace")
                return "q" if key in ("", "\x04") else key.lower()
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            return "q"
        return line.strip()[:1].lower() if line else "q"


def _show(console: Console, i: int, n: int, c: Candidate, topic: Topic) -> None:
    verdict = "would alert" if c.matched else "would not alert"
    console.rule(f"{i}/{n}  {escape(topic.id)}")
    console.print(f"[bold]{escape(c.title or '(no title)')}[/]")
    console.print(f"source: {escape(c.source)}  {escape(c.key)}", highlight=False)
    console.print(
        f"score {c.score:.3f} (threshold {topic.threshold:.2f}): {verdict}"
        + (f"; guard: {escape(c.guard)}" if c.guard else ""),
        highlight=False,
    )
    if c.evidence:
        console.print(f"evidence: “{escape(c.evidence)}”", highlight=False)


def review(
    store: Store,
    found: list[Candidate],
    topic: Topic,
    who: str,
    console: Console,
    key: Callable[[], str] | None = None,
) -> Counter:
    """Ask about each candidate in turn; store each r/n answer immediately. Counts per answer."""
    if key is None:
        with KeyReader() as reader:
            return review(store, found, topic, who, console, reader)
    answers: Counter = Counter()
    for i, c in enumerate(found, 1):
        _show(console, i, len(found), c, topic)
        while True:
            console.print(PROMPT, end="", markup=False, highlight=False)
            k = key()
            if k in KEYS:
                break
            console.print(f"\n{k!r}: press r, n, s or q", markup=False, highlight=False)
        console.print(KEYS[k], highlight=False)
        if k == "q":
            break
        answers[KEYS[k]] += 1
        if k in ("r", "n"):
            label = Label(topic.id, c.key, 1 if k == "r" else 0, "cli", who, utcnow())
            store.put_labels([(label, c.title, c.text)])
    return answers
