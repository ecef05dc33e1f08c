"""Read-only views of the intake."""

from __future__ import annotations

from madoguchi.conversations.models import Conversation, Message
from madoguchi.mail_in.models import RawMessage, RawStatus
from madoguchi.mailboxes.models import Mailbox


def stats() -> dict[str, int]:
    """Counts used by `madoguchi stats` and the benchmarks."""
    return {
        "mailboxes": Mailbox.objects.count(),
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "raw": RawMessage.objects.count(),
        "pending": RawMessage.objects.filter(status=RawStatus.PENDING).count(),
        "failed": RawMessage.objects.filter(status=RawStatus.FAILED).count(),
        "duplicates": RawMessage.objects.filter(status=RawStatus.DUPLICATE).count(),
    }
