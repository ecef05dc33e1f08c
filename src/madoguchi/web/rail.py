"""The shell around every signed-in page: the rail of mailboxes, the bell, the approvals count.

A context processor, so no view builds it by hand. Each value is computed only when a template
reads it (a fragment that does not show the rail costs nothing), and the mailboxes are read once
per request for all three.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from madoguchi.accounts.models import Role
from madoguchi.conversations import queries
from madoguchi.conversations.models import Message
from madoguchi.mail_out.models import OutboxStatus
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import visible_mailboxes
from madoguchi.notifications.models import Notification


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def mailboxes() -> list[Mailbox]:
        return list(visible_mailboxes(user))

    def rail() -> list[tuple[Mailbox, int]]:
        counts = queries.new_counts(user)
        return [(mb, counts.get(mb.pk, 0)) for mb in mailboxes()]

    def unread() -> int:
        return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()

    def awaiting() -> int:
        agent = getattr(request, "agent", None)
        if agent is None or agent.role not in (Role.ADMIN, Role.MANAGER):
            return 0
        return Message.objects.filter(
            outbox__status=OutboxStatus.AWAITING, mailbox__in=mailboxes()
        ).count()

    return {
        "rail": SimpleLazyObject(rail),
        "unread": SimpleLazyObject(unread),
        "awaiting": SimpleLazyObject(awaiting),
    }
