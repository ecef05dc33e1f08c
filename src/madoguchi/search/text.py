"""Text into index tokens and query terms, the same way for both (pure Python, no Django).

Japanese has no spaces between words and its most common words have two characters (東京,
請求, 納期), which trigram indexes cannot serve (``../shared/RECIPES.md``). So runs of CJK
characters are indexed as overlapping **bigrams** plus the run's last character alone
(東京都庁 → 東京 京都 都庁 庁), and other words whole (invoice, 2026). Both SQLite's FTS5
(``ascii``: split at spaces) and PostgreSQL's ``to_tsvector('simple', ...)`` then index
them as words with positions, so:

- a term of two or more CJK characters is the phrase of its bigrams (東京都 → "東京 京都":
  adjacent bigrams can only come from the contiguous text);
- a single CJK character is a prefix (東*): every occurrence starts a bigram or ends a run;
- a Latin word matches by prefix (invo → invo*), unless quoted.

Everything is folded first: NFKC (ＡＢＣ → ABC, ｶﾅ → カナ, ① → 1) then case (``casefold``).
Hiragana and katakana are not folded into each other: they are different words to readers.

Written here rather than taken from a library: the candidates (MeCab/Sudachi
morphological analysers, tinysegmenter) need dictionaries or split differently between the
document and the query; bigrams need neither and find every substring.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Characters indexed as bigrams: kana, CJK ideographs (and 々, ー), Hangul syllables.
CJK = "\u3005\u3006\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_RUNS = re.compile(rf"([{CJK}]+)|([^\W_{CJK}]+)")
#: The same words in ASCII text, where folding is ``lower()`` (three times faster).
_ASCII_WORDS = re.compile(r"[a-z0-9]+")
#: The most text one index entry reads (characters, after folding); the rest of a longer
#: mail is not searchable, and indexing costs time in proportion to what it reads.
MAX_CHARS = 100_000


def fold(text: str) -> str:
    """Width, compatibility forms and case folded (the same for text and queries)."""
    return unicodedata.normalize("NFKC", text).casefold()


def _runs(folded: str) -> list[tuple[str, bool]]:
    """The runs of ``folded``: (run, is CJK)."""
    return [(cjk or word, bool(cjk)) for cjk, word in _RUNS.findall(folded)]


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


class _Doubled(dict[int, str]):
    """``str.translate``'s table for CJK runs: each character written twice around a space
    (東 → "東 東"), so a run's translation is its first character, its bigrams and its
    last character (東京都 → "東 東京 京都 都"). Filled as characters are met (at most the
    ~40,000 of ``CJK``)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = self[code] = f"{char} {char}"
        return value


_DOUBLED = _Doubled()


def tokens(text: str, *, limit: int = MAX_CHARS) -> str:
    """The index tokens of ``text``, separated by spaces (what the index stores). A CJK
    run's bigrams are made by ``str.translate`` (``_Doubled``, the first character cut
    off), not a string a bigram in Python: 20 % fewer instructions for Japanese text."""
    cut = text[: limit * 2]
    if cut.isascii():  # NFKC changes no ASCII character
        return " ".join(_ASCII_WORDS.findall(cut[:limit].lower()))
    return " ".join([
        cjk.translate(_DOUBLED)[2:] if cjk else word
        for cjk, word in _RUNS.findall(fold(cut)[:limit])
    ])  # fmt: skip


@dataclass(frozen=True)
class Term:
    """One search term as the index sees it: ``words`` must follow each other in this
    order, the last one as a prefix when ``prefix``."""

    words: tuple[str, ...]
    prefix: bool


def term(text: str, *, quoted: bool = False) -> Term | None:
    """The index form of one search term (a word, or a quoted phrase); None when it has
    nothing searchable (only punctuation)."""
    runs = _runs(fold(text))
    if not runs:
        return None
    words: list[str] = []
    for i, (run, cjk) in enumerate(runs):
        last = i == len(runs) - 1
        if not cjk or len(run) == 1:
            words.append(run)
        else:
            words.extend(_bigrams(run))
            if not last:  # the document has the run's last character before the next run
                words.append(run[-1])
    last_run, last_cjk = runs[-1]
    prefix = (last_cjk and len(last_run) == 1) or (not last_cjk and not quoted)
    return Term(tuple(words), prefix)


def needles(text: str) -> list[str]:
    """The folded strings a term stands for in the text (for highlighting): the runs."""
    return [run for run, _ in _runs(fold(text))]
