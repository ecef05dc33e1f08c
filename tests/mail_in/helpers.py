"""Drive the real intake path in tests: accept, then ingest in this process."""

from __future__ import annotations

from madoguchi.conversations.models import Message
from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import Mailbox


def deliver(mailbox: Mailbox, data: bytes, source: str = "lmtp") -> Message | None:
    raw, _ = actions.accept(mailbox, RawInbound(data=data, source=source), schedule=False)  # type: ignore[arg-type]
    raw = RawMessage.objects.select_related("mailbox").get(pk=raw.pk)
    messages = actions.ingest_safely([raw])
    return messages[0] if messages else None
