"""Link templates and order numbers (pure Python, no Django).

A link template is a URL with placeholders: ``{email}`` ``{name}`` ``{company}``
``{domain}`` ``{order}`` (the first order number found in the subject) and ``{field:key}``
(a team field). Each value is percent-encoded into the URL; a link whose placeholder has
no value is not shown (a link to the order page without an order number leads nowhere).
Only http and https links are made.

The order-number pattern is an administrator's regular expression: it runs with the
``regex`` module's time limit over at most ``MAX_TEXT`` characters, so no pattern and no
subject can hold a page (a pattern that takes too long finds nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

import regex

PLACEHOLDER = re.compile(r"\{(email|name|company|domain|order|field:[a-z0-9_-]{1,40})\}")
_ANY_BRACE = re.compile(r"\{[^{}]*\}")
MAX_TEXT = 1000
MAX_ORDERS = 5
#: Seconds an order-number pattern may run over one subject.
PATTERN_TIME = 0.05


def template_error(url: str) -> str:
    """'' when ``url`` can be a link template, else why not: "scheme" or "placeholder"."""
    if not url.lower().startswith(("https://", "http://")) or len(url) > 1000:
        return "scheme"
    for found in _ANY_BRACE.finditer(url):
        if not PLACEHOLDER.fullmatch(found.group()):
            return "placeholder"
    return ""


def fill(url: str, values: Mapping[str, str]) -> str | None:
    """The link, or None when a placeholder it uses has no value (or it is no link)."""
    if template_error(url):
        return None
    missing = False

    def value(found: re.Match[str]) -> str:
        nonlocal missing
        text = values.get(found.group(1), "")
        if not text:
            missing = True
        return quote(text, safe="")

    filled = PLACEHOLDER.sub(value, url)
    return None if missing else filled


def pattern_error(pattern: str) -> str:
    """'' when ``pattern`` compiles, else the error's words."""
    try:
        regex.compile(pattern)
    except regex.error as error:
        return str(error)
    return ""


def order_numbers(pattern: str, text: str) -> list[str]:
    """Up to ``MAX_ORDERS`` order numbers in ``text`` (the whole match, or its first group)."""
    if not pattern:
        return []
    try:
        compiled = regex.compile(pattern)
        found = []
        for match in compiled.finditer(text[:MAX_TEXT], timeout=PATTERN_TIME):
            found.append(match.group(1) if compiled.groups else match.group())
            if len(found) >= MAX_ORDERS:
                break
    except (regex.error, TimeoutError):
        return []
    return [f for f in found if f]
