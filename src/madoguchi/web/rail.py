"""The shell around every signed-in page: the rail of mailboxes, the bell, the approvals count,
and what live.js must know of the event types (``core.event_types.for_script``).

A context processor, so no view builds it by hand. Each value is computed only when a
template reads it (a fragment that does not show the rail costs nothing), and the rail (the
visible mailboxes with their new counts, one query) is read once per request for every use.
The Unassigned view's count (new conversations nobody has, as automatic assignment leaves
them) comes with the rail's query.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from madoguchi.accounts.models import Role
from madoguchi.conversations import queries
from madoguchi.conversations.models import Message
from madoguchi.core import event_types
from madoguchi.mail_out.models import OutboxStatus
from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.models import Notification
from madoguchi.search.query import parse
from madoguchi.search.saved import saved_searches
from madoguchi.web.current import current_agent


def rail_of(request: HttpRequest) -> list[tuple[Mailbox, int]]:
    """The agent's mailboxes with their new conversations, computed once per request."""
    found: list[tuple[Mailbox, int]] | None = getattr(request, "_madoguchi_rail", None)
    if found is None:
        found = queries.rail(current_agent(request))
        request._madoguchi_rail = found  # type: ignore[attr-defined]
    return found


def shell(request: HttpRequest) -> dict[str, Any]:
    agent = getattr(request, "agent", None)
    if agent is None:
        return {}

    def unread() -> int:
        return Notification.objects.filter(user_id=agent.user_id, read_at__isnull=True).count()

    def awaiting() -> int:
        if agent.role not in (Role.ADMIN, Role.MANAGER):
            return 0
        return Message.objects.filter(
            outbox__status=OutboxStatus.AWAITING,
            mailbox__in=[mb.pk for mb, _ in rail_of(request)],
        ).count()

    def unassigned() -> int:
        """New conversations nobody has, in every visible mailbox (the rail's query)."""
        return sum(getattr(mb, "unassigned", 0) for mb, _ in rail_of(request))

    return {
        "saved_searches": SimpleLazyObject(lambda: saved_searches(agent.user_id)),
        "search_q": request.GET.get("q", "")[:500] if request.method == "GET" else "",
        # The searched words a page marks (a result links to its conversation with ?q=).
        "needles": parse(request.GET["q"]).needles if request.GET.get("q") else [],
        "live_event_types": event_types.for_script(),
        "rail": SimpleLazyObject(lambda: rail_of(request)),
        "unassigned": SimpleLazyObject(unassigned),
        "unread": SimpleLazyObject(unread),
        "awaiting": SimpleLazyObject(awaiting),
    }
