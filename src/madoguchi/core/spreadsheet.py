"""CSV cells that a spreadsheet opens as text, never as a formula (pure Python).

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula, so a customer named ``=HYPERLINK(…)`` in a mail
header would become a live link or worse in the exported file (OWASP's "CSV injection").
Such a cell is written with a leading apostrophe, which spreadsheets show as text; reading
a file back takes the apostrophe off again, so an export imported again changes nothing.
"""

from __future__ import annotations

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """``value`` as a cell a spreadsheet will not run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def uncell(text: str) -> str:
    """A cell read back: the apostrophe ``cell`` added taken off."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA) else text
