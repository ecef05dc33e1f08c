"""Find the agents an internal note mentions: ``@sato``, ``@佐藤花子``, ``@佐藤 花子さん``.

Japanese text puts no space after a name ("@佐藤花子さん、確認を"), so a mention is the
longest known name that the text after ``@`` starts with, compared without spaces and
case. Pure Python; the caller supplies the names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SPACE = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACE.sub("", text).casefold()


def mentioned(text: str, names: Iterable[tuple[int, Iterable[str]]]) -> list[int]:
    """The ids whose names follow an ``@`` in ``text`` (each once, in order of mention)."""
    keys = sorted(
        ((_key(n), who) for who, ns in names for n in ns if _key(n)),
        key=lambda kw: -len(kw[0]),
    )
    found: list[int] = []
    for match in re.finditer(r"[@＠]", text):
        raw = text[match.end() : match.end() + 80]
        after = _key(raw)
        for key, who in keys:
            if key.isascii():  # a user name: it must end where the word ends
                hit = re.match(re.escape(key) + r"(?![\w-]|\.\w)", raw, re.IGNORECASE | re.ASCII)
            else:
                hit = after.startswith(key)  # type: ignore[assignment]
            if hit:
                if who not in found:
                    found.append(who)
                break
    return found
