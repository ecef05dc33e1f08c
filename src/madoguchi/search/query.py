"""The search box's language (pure Python, no Django).

    請求書 "再発行 お願い" from:tokyo-shoji.example subject:納期 status:open assignee:me
    tag:VIP has:attachment after:2026-11-01 before:2026-12-01 is:unread mailbox:support

Words are searched everywhere (subject, body with quoted parts, sender and recipient names
and addresses, attachment names, notes, tags); all of them must match. A quoted phrase
("…", 「…」 or “…”) matches as written. ``from:``, ``to:`` and ``subject:`` search one
field; the other operators filter. An operator with a value it cannot read (a date that is
no date) is an ``error`` the page shows; an unknown ``word:`` is searched as text. The
query is bounded: at most ``MAX_TERMS`` terms of at most ``MAX_TERM`` characters each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from madoguchi.search import text
from madoguchi.search.text import Term

MAX_QUERY = 500
MAX_TERMS = 12
MAX_TERM = 100

FIELDS = {"from": "sender", "to": "recipients", "subject": "subject"}
FILTERS = ("mailbox", "status", "assignee", "tag", "has", "is", "before", "after")

_QUOTES = {'"': '"', "「": "」", "“": "”", "『": "』"}
_PART = re.compile(
    r"""(?P<key>[A-Za-z]+):(?:"(?P<qv>[^"]*)"?|「(?P<jv>[^」]*)」?|(?P<v>\S*))"""
    r"""|"(?P<q>[^"]*)"?|「(?P<j>[^」]*)」?|“(?P<c>[^”]*)”?|『(?P<d>[^』]*)』?|(?P<w>\S+)"""
)


@dataclass
class Query:
    """What a search asks for: ``terms`` anywhere, ``fields`` in one field, and filters."""

    terms: list[Term] = field(default_factory=list)
    #: (index column, term): ``sender``, ``recipients`` or ``subject``.
    fields: list[tuple[str, Term]] = field(default_factory=list)
    mailbox: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    assignee: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    has_attachment: bool = False
    unread: bool = False
    before: date | None = None
    after: date | None = None
    #: The searched words as typed (folded), for highlighting.
    needles: list[str] = field(default_factory=list)
    #: What could not be read, one sentence each (English; the page translates).
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.fields)

    @property
    def empty(self) -> bool:
        return self == Query()


def parse(raw: str) -> Query:
    """Read the search box. Never fails: what it cannot read is in ``errors``."""
    query = Query()
    source = raw[:MAX_QUERY].replace("\u3000", " ").replace("\x00", "")
    count = 0
    for match in _PART.finditer(source):
        if count >= MAX_TERMS:
            query.errors.append(("too_many", str(MAX_TERMS)))
            break
        count += 1
        key = (match["key"] or "").lower()
        if key and (key in FIELDS or key in FILTERS):
            value = next((v for v in (match["qv"], match["jv"], match["v"]) if v is not None), "")
            _operator(query, key, value[:MAX_TERM], quoted=match["v"] is None)
            continue
        quoted = next(
            (v for v in (match["q"], match["j"], match["c"], match["d"]) if v is not None), None
        )
        word = quoted if quoted is not None else match[0]
        _text(query, word[:MAX_TERM], quoted=quoted is not None)
    return query


def _text(query: Query, word: str, *, quoted: bool) -> None:
    found = text.term(word, quoted=quoted)
    if found is not None:
        query.terms.append(found)
        query.needles.extend(text.needles(word))


def _operator(query: Query, key: str, value: str, *, quoted: bool) -> None:
    if not value.strip():
        query.errors.append(("empty", key))
    elif key in FIELDS:
        found = text.term(value, quoted=quoted)
        if found is not None:
            query.fields.append((FIELDS[key], found))
            query.needles.extend(text.needles(value))
    elif key in ("before", "after"):
        day = read_date(value)
        if day is None:
            query.errors.append(("date", f"{key}:{value}"))
        else:
            setattr(query, key, day)
    elif key in ("has", "is"):
        _flag(query, key, value)
    else:
        values: list[str] = getattr(query, key)
        values.append(value.strip())


#: ``has:`` and ``is:`` values, folded, and the flag each sets.
_FLAGS = {
    ("has", "attachment"): "has_attachment", ("has", "attachments"): "has_attachment",
    ("has", "添付"): "has_attachment", ("has", "添付ファイル"): "has_attachment",
    ("is", "unread"): "unread", ("is", "未読"): "unread",
}  # fmt: skip


def _flag(query: Query, key: str, value: str) -> None:
    flag = _FLAGS.get((key, text.fold(value)))
    if flag is None:
        query.errors.append(("value", f"{key}:{value}"))
    else:
        setattr(query, flag, True)


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{4})(\d{2})(\d{2})")


def read_date(value: str) -> date | None:
    """2026-12-01, 2026/12/1, 20261201 or 2026年12月1日 (full-width digits too)."""
    found = _DATE.fullmatch(text.fold(value).strip())
    if found is None:
        return None
    parts = [int(p) for p in found.groups() if p is not None]
    try:
        return date(parts[0], parts[1], parts[2])
    except ValueError:
        return None
