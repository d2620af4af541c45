"""Split an article into passages: title + lead first, then the body in chunks.

Event topics are decided by a sentence or a paragraph, not by the whole page:
a visit mentioned in paragraph 3 must still be found, and an alert must quote
the passage that matched.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?\"'”’])\s+(?=[A-Z0-9\"“‘(])")
_WS = re.compile(r"[ \t\r\f\v]+")


def normalise_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()


def paragraphs(text: str) -> list[str]:
    """Paragraphs of extracted text; hard-wrapped newswire (single newlines) is re-joined."""
    text = text.replace("\r\n", "\n")
    blocks = re.split(r"\n\s*\n", text) if "\n\n" in text else text.split("\n")
    if "\n\n" not in text and blocks and sum(len(b) for b in blocks) / len(blocks) < 90:
        # wire copy wrapped at ~70 columns with indented paragraph starts
        blocks = re.split(r"\n(?=\s{2,}|\t)", text)
    out = [normalise_ws(b.replace("\n", " ")) for b in blocks]
    return [p for p in out if p]


# Tokens after which a full stop does not end a sentence ("U.N. Security Council", "Mr. Kim").
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.){1,3}|\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Sgt|Capt|Gov|Sen|Rep|St|Jr|Sr|"
    r"Inc|Corp|Co|Ltd|No|Vol|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|vs|approx)\.)$"
)


def sentences(text: str) -> list[str]:
    """Split on sentence ends, keeping abbreviations and initials inside their sentence."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(normalise_ws(text)):
        piece = piece.strip()
        if not piece:
            continue
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def split_passages(
    title: str, text: str, max_passages: int = 12, max_words: int = 80
) -> tuple[str, ...]:
    """Title + lead as passage 0, then consecutive sentences packed up to `max_words`."""
    title = normalise_ws(title)
    sents: list[str] = []
    for para in paragraphs(text):
        sents.extend(sentences(para) or [para])
    if title and sents and normalise_ws(sents[0]).lower() == title.lower():
        sents = sents[1:]
    passages: list[str] = []
    current: list[str] = [title] if title else []
    words = len(title.split())
    for sent in sents:
        n = len(sent.split())
        if current and words + n > max_words:
            passages.append(" ".join(current))
            if len(passages) >= max_passages:
                return tuple(passages)
            current, words = [], 0
        current.append(sent)
        words += n
    if current:
        passages.append(" ".join(current))
    return tuple(passages[:max_passages]) or ((title,) if title else ("",))


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_COMMON = frozenset(
    {
        "that",
        "this",
        "with",
        "from",
        "have",
        "been",
        "were",
        "will",
        "would",
        "said",
        "says",
        "their",
        "there",
        "they",
        "them",
        "than",
        "into",
        "over",
        "after",
        "about",
        "also",
        "more",
        "most",
        "other",
        "some",
        "such",
        "which",
        "while",
        "when",
        "where",
        "what",
        "last",
        "first",
        "year",
        "years",
        "week",
        "today",
        "could",
        "should",
        "being",
        "does",
        "done",
        "made",
        "make",
    }
)


def shared_terms(text: str, example: str, limit: int = 6) -> tuple[str, ...]:
    """Content words of `text`, as written, that the topic example also uses: what a
    similarity-based detector found alike (bold in alerts)."""
    wanted = {w.lower() for w in _WORD.findall(example)} - _COMMON
    out: dict[str, None] = {}
    for w in _WORD.findall(text):
        if w.lower() in wanted:
            out.setdefault(w, None)
    return tuple(out)[:limit]
