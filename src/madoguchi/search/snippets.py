"""Where the searched words are in a text, for the result snippet and for highlighting in
the opened conversation (pure Python, no Django).

The text is folded character by character (``search.text.fold``) with a map back to the
original positions, so ｶﾅ in the mail lights up for a search of カナ and ＡＢＣ for abc.
The work is bounded: at most ``MAX_SCAN`` characters are read.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from madoguchi.search.text import fold

MAX_SCAN = 200_000
#: What a result snippet reads of a message (a match further down shows its beginning).
SNIPPET_SCAN = 20_000
#: Characters of context a snippet shows before its first match (and in all).
BEFORE = 30
WIDTH = 160


@dataclass(frozen=True)
class Piece:
    """A piece of text, ``marked`` when it is a match."""

    text: str
    marked: bool = False


#: ``_folded`` reads a text that is not folded already in pieces of this many characters.
_PIECE = 64


def _unchanged(text: str) -> str | None:
    """``text`` folded, when folding keeps every character where it was (NFKC leaves the
    text as it is and case folding gives one character for one); None otherwise."""
    if not unicodedata.is_normalized("NFKC", text):
        return None
    folded = text.casefold()
    return folded if len(folded) == len(text) else None


def _folded(text: str) -> tuple[str, list[int] | None]:
    """``text`` folded character by character, and where each folded character came from
    (None: from the same position). Most text is folded already but for its case (in a
    normalized text every character is its own NFKC form): that is done in one call, for
    the whole text or a ``_PIECE`` at a time; only the pieces around characters that fold
    into others (①, ｶﾅ, ＡＢＣ, ß) are folded one character at a time."""
    text = text[:MAX_SCAN]
    if text.isascii():  # the common case: one character each, in place
        return text.lower(), None
    whole = _unchanged(text)
    if whole is not None:
        return whole, None
    out: list[str] = []
    origin: list[int] = []
    for at in range(0, len(text), _PIECE):
        piece = text[at : at + _PIECE]
        folded = _unchanged(piece)
        if folded is not None:
            out.append(folded)
            origin.extend(range(at, at + len(piece)))
            continue
        for i, char in enumerate(piece, at):
            folded = fold(char) if not char.isascii() else char.lower()
            out.append(folded)
            origin.extend([i] * len(folded))
    return "".join(out), origin


def spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) positions in ``text`` of the needles."""
    words = sorted({n for n in needles if n}, key=len, reverse=True)
    if not words or not text:
        return []
    folded, origin = _folded(text)
    found: list[tuple[int, int]] = []
    for word in words:
        start = folded.find(word)
        while start != -1:
            end = start + len(word)
            found.append((origin[start], origin[end - 1] + 1) if origin else (start, end))
            start = folded.find(word, end)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, needles: list[str]) -> list[Piece]:
    """``text`` in pieces, the matches marked."""
    pieces: list[Piece] = []
    at = 0
    for start, end in spans(text, needles):
        if start > at:
            pieces.append(Piece(text[at:start]))
        pieces.append(Piece(text[start:end], marked=True))
        at = end
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces


def snippet(text: str, needles: list[str], *, width: int = WIDTH) -> list[Piece]:
    """About ``width`` characters of ``text`` (whitespace squeezed) around its first match
    (its beginning when nothing matches), the matches marked."""
    flat = " ".join(text[:SNIPPET_SCAN].split())
    found = spans(flat, needles)
    start = max(0, found[0][0] - BEFORE) if found else 0
    window = flat[start : start + width]
    pieces = mark(window, needles)
    if start > 0:
        pieces.insert(0, Piece("…"))
    if start + width < len(flat):
        pieces.append(Piece("…"))
    return pieces
