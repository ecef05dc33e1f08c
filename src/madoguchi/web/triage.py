"""Triage of one conversation from its header: snooze it, wake it, set or clear a
follow-up (docs/automation/snooze.md). Whoever may open a conversation may do these, as
with its status; the views check access, read the form, and call ``conversations.timers``.

A value no form offers (a preset or a choice that is not one) is a 400 naming it; a date
and time an agent typed that is not one, or not in the coming year, brings the page back
with the snooze menu open and says so.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from madoguchi.conversations import queries, timers
from madoguchi.core import params
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.templatetags.triage import FOLLOW_UP_DAYS

#: The snooze menu's buttons: a preset, or "custom" with the typed ``until``.
CHOICES = (*timers.PRESETS, "custom")
#: ``<input type=datetime-local>`` sends these (seconds when the browser adds them).
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


@agent_required
@require_POST
def snooze(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    preset = params.get_choice(request, "preset", CHOICES, default="custom", post=True)
    back_to = params.get_choice(request, "back_to", timers.BACK_TO, default="new", post=True)
    now = timezone.now()
    if preset == "custom":
        until = typed_time(params.get_text(request, "until", max_length=40, post=True))
    else:
        until = timers.preset_time(preset, now=now, mailbox=conv.mailbox)
    if until is None or not timers.within_reach(until, now=now):
        return _back(conv.pk, error="snooze")
    timers.snooze(conv, until=until, back_to=back_to, actor_id=request.agent.user_id)
    return _back(conv.pk)


def typed_time(text: str) -> datetime | None:
    """A date and time typed in the agent's time zone (the active one), or None."""
    for pattern in LOCAL_FORMATS:
        try:
            naive = datetime.strptime(text.strip(), pattern)  # noqa: DTZ007 (made aware below)
        except ValueError:
            continue
        return timezone.make_aware(naive)
    return None


@agent_required
@require_POST
def wake(request: AgentRequest, pk: int) -> HttpResponse:
    """Back from its snooze now (nothing when it is not snoozed any more)."""
    conv = queries.access_conversation(request.agent, pk)
    timers.wake(conv, reason="manual", actor_id=request.agent.user_id)
    return _back(conv.pk)


@agent_required
@require_POST
def follow_up(request: AgentRequest, pk: int) -> HttpResponse:
    """Remind me if the customer does not answer in N business days (of the mailbox)."""
    conv = queries.access_conversation(request.agent, pk)
    days = params.get_choice(
        request, "days", [str(n) for n in FOLLOW_UP_DAYS], default="", post=True
    )
    if not days:
        raise params.BadParameter("days", "choose how many business days")
    at = timers.business_days_later(timezone.now(), int(days), conv.mailbox)
    timers.set_follow_up(conv, at=at, user_id=request.agent.user_id)
    return _back(conv.pk)


@agent_required
@require_POST
def clear_follow_up(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    timers.clear_follow_up(conv)
    return _back(conv.pk)


def _back(pk: int, *, error: str = "") -> HttpResponse:
    response = redirect("conversation", pk=pk)
    if error:
        response["Location"] += f"?error={error}"
    return response
