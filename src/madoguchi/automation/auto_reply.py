"""Acknowledgements (受付自動返信). Stub: helper "hours" writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival
    from madoguchi.conversations.models import Conversation


def acknowledge(arrivals: list[Arrival]) -> None:
    """Send the mailbox's acknowledgement to the batch's new conversations (RFC 3834)."""


def reply_with_template(conv: Conversation, template_id: int, *, rule: str) -> bool:
    """A rule's "reply with a template": queued like an acknowledgement. Sent or not."""
    return False
