"""The one value every way in produces (LMTP, SMTP, IMAP, import, webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceName = Literal["lmtp", "smtp", "imap", "import", "webhook"]


@dataclass(frozen=True, slots=True)
class RawInbound:
    data: bytes
    source: SourceName
    envelope_from: str = ""
    envelope_to: tuple[str, ...] = ()
    origin: str = ""
