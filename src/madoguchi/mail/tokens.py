"""Our own outbound Message-IDs, signed so that a forged one joins nothing.

Shape: ``mdg.<conversation>.<message>.<signature>@<domain>``, where the signature is the
first 16 hex digits of HMAC-SHA256(key, "<conversation>.<message>"). A customer's reply
names it in In-Reply-To or References, which places the reply in its conversation even when
the customer's mail program dropped the subject or the rest of the thread.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^mdg\.(\d{1,18})\.(\d{1,18})\.([0-9a-f]{16})@", re.ASCII)


@dataclass(frozen=True, slots=True)
class Token:
    conversation_id: int
    message_id: int


def _signature(key: bytes, conversation_id: int, message_id: int) -> str:
    payload = f"{conversation_id}.{message_id}".encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:16]


def make_message_id(key: bytes, *, conversation_id: int, message_id: int, domain: str) -> str:
    """A Message-ID (without angle brackets) for an outbound message."""
    sig = _signature(key, conversation_id, message_id)
    return f"mdg.{conversation_id}.{message_id}.{sig}@{domain}"


def read_token(key: bytes, message_id: str) -> Token | None:
    """The conversation and message a Message-ID of ours names, or None if not ours or forged."""
    match = _TOKEN.match(message_id.strip().strip("<>"))
    if not match:
        return None
    conv, msg, sig = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(sig, _signature(key, conv, msg)):
        return None
    return Token(conversation_id=conv, message_id=msg)
