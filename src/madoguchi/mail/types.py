"""Value types produced by the mail core.

These frozen dataclasses are the contract between :func:`madoguchi.mail.parse`
and the rest of Madoguchi.  Addresses follow RFC 5322 section 3.4, message
identifiers RFC 5322 section 3.6.4, attachments RFC 2183 / RFC 2392.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["normal", "auto_reply", "bulk", "bounce"]

_NEEDS_QUOTES = re.compile(r'[()<>\[\]:;@\\,."]')


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: display name (decoded, '' if none) and address."""

    name: str
    email: str

    def __str__(self) -> str:
        """Return a display form such as ``"Yamada, Taro" <taro@example.jp>``."""
        if not self.name:
            return self.email
        name = self.name
        if _NEEDS_QUOTES.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if not self.email:
            return name
        return f"{name} <{self.email}>"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried by the mail (RFC 2183 disposition, RFC 2392 Content-ID)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    content_id: str | None
    inline: bool
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Defect:
    """Something wrong with the mail and what the parser did about it."""

    where: str
    problem: str
    repair: str


@dataclass(frozen=True)
class ParsedMail:
    """The derived, display-ready view of one raw RFC 5322 message."""

    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    reply_to: list[Address]
    date: datetime | None
    text: str
    html: str | None
    reply_text: str
    attachments: list[Attachment]
    kind: Kind
    bounce_message_id: str | None
    defects: list[Defect]
    headers: list[tuple[str, str]]
    #: The structural evidence for ``kind`` ('' for normal mail), docs/mail/classification.md.
    kind_reason: str = ""
    #: For normal mail whose words look automated: the kind they suggest (a visible hint only).
    kind_hint: Kind | None = None
