"""Madoguchi mail core: parse raw RFC 5322 mail into display-ready data.

Pure Python, no Django.  ``parse(raw)`` never raises; see
:class:`ParsedMail` for what it returns.
"""

from .parse import parse
from .types import Address, Attachment, Defect, ParsedMail

__all__ = ["Address", "Attachment", "Defect", "ParsedMail", "parse"]
