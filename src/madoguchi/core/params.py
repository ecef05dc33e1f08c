"""Typed reads of query-string and form values: a bad value is a 400, never a 500.

Values in a URL or a form are whatever the sender typed. Python's own parsers accept more
than they should (``"²".isdigit()`` is true and ``int("²")`` then fails; ``float`` reads
``inf``, ``nan`` and ``1e309``; ``int`` reads ``"٣"`` and ``" 1_0 "``) and the database
refuses integers beyond 64 bits. These getters accept only plain ASCII digits within the
range of a database id, and raise ``BadParameter`` (a ``BadRequest``: Django answers 400 and
``templates/400.html`` names the parameter) for anything else.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, QueryDict

#: The largest id a database column holds (signed 64 bits).
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


class BadParameter(BadRequest):
    """A query or form value that is not what the page expects."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def _one(request: HttpRequest, source: QueryDict, name: str) -> str | None:
    """The single value of ``name`` (None if absent); more than one value is refused."""
    values = source.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise _bad(request, name, "given more than once")
    value = values[0]
    if "\x00" in value:
        raise _bad(request, name, "contains a NUL character")
    return value


def _bad(request: HttpRequest, name: str, reason: str) -> BadParameter:
    """The exception to raise; the request keeps it so the 400 page can name the parameter."""
    error = BadParameter(name, reason)
    request.bad_parameter = error  # type: ignore[attr-defined]
    return error


def parse_id(value: str) -> int | None:
    """``value`` as a positive database id, or None if it is not exactly one."""
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def get_id(request: HttpRequest, name: str, *, post: bool = False) -> int | None:
    """An optional id parameter: None when absent or empty; 400 when it is not an id."""
    value = _one(request, request.POST if post else request.GET, name)
    if value is None or value == "":
        return None
    number = parse_id(value)
    if number is None:
        raise _bad(request, name, "not a number")
    return number


def get_ids(request: HttpRequest, name: str, *, post: bool = True, limit: int = 1000) -> list[int]:
    """Several ids (``name=1&name=2``), each checked; 400 for any that is not one."""
    source = request.POST if post else request.GET
    values = source.getlist(name)
    if len(values) > limit:
        raise _bad(request, name, f"more than {limit} values")
    result = []
    for value in values:
        number = parse_id(value)
        if number is None:
            raise _bad(request, name, "not a number")
        result.append(number)
    return result


def get_choice(
    request: HttpRequest, name: str, choices: Collection[str], *, default: str, post: bool = False
) -> str:
    """One of ``choices``; ``default`` when absent or empty; 400 for anything else."""
    value = _one(request, request.POST if post else request.GET, name)
    if value is None or value == "":
        return default
    if value not in choices:
        raise _bad(request, name, "not one of the choices")
    return value


def get_flag(request: HttpRequest, name: str) -> bool:
    """A ``?name=1`` switch of a link: true only for "1" (anything else is off)."""
    values = request.GET.getlist(name)
    return len(values) == 1 and values[0] == "1"


def get_text(request: HttpRequest, name: str, *, max_length: int, post: bool = False) -> str:
    """A short free-text value ('' when absent); 400 when too long or with a NUL."""
    value = _one(request, request.POST if post else request.GET, name) or ""
    if len(value) > max_length:
        raise _bad(request, name, "too long")
    return value


def get_token(
    request: HttpRequest, name: str, pattern: re.Pattern[str], *, post: bool = False
) -> str | None:
    """A value of a fixed shape (``pattern``, matched whole); None when absent or empty."""
    value = _one(request, request.POST if post else request.GET, name)
    if value is None or value == "":
        return None
    if not value.isascii() or not pattern.fullmatch(value):
        raise _bad(request, name, "not in the expected form")
    return value


class ModelIdsField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """``ModelMultipleChoiceField`` that refuses what is not an id before asking the database.

    Django's field hands ``"9" * 40`` to the database, which fails (SQLite: OverflowError;
    PostgreSQL: out of range) instead of the field saying "not a valid choice".
    """

    def _check_values(self, value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else [value]:
            if parse_id(str(item)) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                    params={"pk": item},
                )  # fmt: skip
        return super()._check_values(value)  # type: ignore[misc]
