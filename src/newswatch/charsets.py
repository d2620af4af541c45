"""Bytes to text as a browser would: BOM, then the HTTP charset, then the page's own
declaration (meta / XML), then detection; never a decode error."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # As browsers do: pages labelled Latin-1/ASCII are in practice Windows-1252.
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def decode_text(content: bytes, content_type: str | None = None) -> str:
    """Decode a body, trusting valid UTF-8 first since labels are often wrong.

    Order: BOM, strict UTF-8, the HTTP label, an in-document <meta>/<?xml?>
    label, then statistical detection (charset-normalizer).
    """
    if not content:
        return ""
    for bom, enc in _BOMS:
        if content.startswith(bom):
            return content.decode(enc, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    label = None
    if content_type:
        m = re.search(r"charset\s*=\s*([^;\s]+)", content_type, re.I)
        label = m.group(1) if m else None
    head = content[:4096]
    doc = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    for name in (label, doc.group(1).decode("ascii", "ignore") if doc else None):
        codec = _codec(name)
        if codec and codec not in ("utf-8", "utf-8-sig"):
            try:
                return content.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    matches = charset_normalizer.from_bytes(content[:200_000])
    best = matches.best()
    if best is not None:
        encoding = best.encoding
        # On a tie (short Western text), Windows-1252 is by far the likeliest mislabel.
        for m in matches:
            if m.encoding == "cp1252" and m.chaos <= best.chaos and m.coherence >= best.coherence:
                encoding = "cp1252"
        return content.decode(encoding, errors="replace")
    return content.decode("utf-8", errors="replace")
