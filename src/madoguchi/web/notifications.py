"""The bell: an agent's own notifications (nobody else's, whatever the id says)."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from madoguchi.conversations.models import Conversation
from madoguchi.mailboxes.queries import visible_mailboxes
from madoguchi.notifications import actions
from madoguchi.notifications.models import Notification
from madoguchi.notifications.text import describe
from madoguchi.web.current import AgentRequest, agent_required

SHOWN = 100


def _own(request: AgentRequest, pk: int) -> Notification:
    found = (
        Notification.objects.select_related("actor__agent", "conversation")
        .filter(pk=pk, user_id=request.agent.user_id)
        .first()
    )
    if found is None:
        raise Http404("no such notification")
    return found


def _openable(request: AgentRequest, rows: list[Notification]) -> set[int]:
    """The conversations of ``rows`` the reader may still open (one query)."""
    ids = {n.conversation_id for n in rows if n.conversation_id is not None}
    if not ids:
        return set()
    return set(
        Conversation.objects.filter(
            pk__in=ids, mailbox__in=visible_mailboxes(request.agent)
        ).values_list("pk", flat=True)
    )


@agent_required
def notification_list(request: AgentRequest) -> HttpResponse:
    rows = list(
        Notification.objects.filter(user_id=request.agent.user_id)
        .select_related("actor__agent", "conversation")
        .order_by("-pk")[:SHOWN]
    )
    openable = _openable(request, rows)
    items = [(n, *describe(n, can_open=n.conversation_id in openable)) for n in rows]
    return render(request, "notifications/list.html", {"items": items})


@agent_required
def notification_open(request: AgentRequest, pk: int) -> HttpResponse:
    n = _own(request, pk)
    actions.mark_read(n.user_id, [n.pk])
    if n.conversation_id is None or n.conversation_id not in _openable(request, [n]):
        return redirect("notifications")
    return redirect("conversation", pk=n.conversation_id)


@agent_required
def notification_json(request: AgentRequest, pk: int) -> JsonResponse:
    n = _own(request, pk)
    title, body, url = describe(n, can_open=n.conversation_id in _openable(request, [n]))
    return JsonResponse({"title": title, "body": body, "url": url})


@agent_required
@require_POST
def notifications_read(request: AgentRequest) -> HttpResponse:
    actions.mark_read(request.agent.user_id)
    return redirect("notifications")
