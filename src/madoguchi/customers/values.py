"""A customer field's value as a person types it, checked and stored as text (pure Python).

Numbers keep what was typed, without grouping commas or full-width digits (１，２００ →
1200); dates are stored as ``YYYY-MM-DD`` whichever way they came (2026/12/4, 2026年12月4日,
2026-12-04); a choice must be one of the field's choices. An empty value clears the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

MAX_TEXT = 1000
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class BadValue(ValueError):
    """The value does not fit the field: ``code`` says why ("number", "date", "choice",
    "long"), for the page to say in the reader's language."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(f"{code}: {value[:80]}")
        self.code = code
        self.value = value[:80]
        #: The field's key, when the caller knows it.
        self.field = ""


def clean(kind: str, raw: str, choices: list[str] | None = None) -> str:
    """The stored form of ``raw`` for a field of ``kind``; '' clears it."""
    value = raw.strip()
    if not value:
        return ""
    if kind == "number":
        return _number(value)
    if kind == "date":
        return _date(value)
    if kind == "choice":
        if value not in (choices or []):
            raise BadValue("choice", value)
        return value
    if len(value) > MAX_TEXT:
        raise BadValue("long", value)
    return value


def _number(value: str) -> str:
    plain = unicodedata.normalize("NFKC", value).replace(",", "").replace(" ", "")
    if len(plain) > 40:
        raise BadValue("number", value)
    try:
        number = Decimal(plain)
    except InvalidOperation:
        raise BadValue("number", value) from None
    if not number.is_finite():
        raise BadValue("number", value)
    return plain


def _date(value: str) -> str:
    found = _DATE.match(unicodedata.normalize("NFKC", value))
    if found is None:
        raise BadValue("date", value)
    try:
        return date(*(int(part) for part in found.groups())).isoformat()
    except ValueError:
        raise BadValue("date", value) from None
