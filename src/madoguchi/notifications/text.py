"""What a notification says, in the reader's language (page, browser, mail)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.notifications.models import Kind, Notification

SENTENCES = {
    Kind.ASSIGNED: lambda who: _("%(who)s assigned a conversation to you") % {"who": who},
    Kind.MENTIONED: lambda who: _("%(who)s mentioned you in a note") % {"who": who},
    Kind.CUSTOMER_REPLIED: lambda who: _("Your customer replied"),
    Kind.APPROVAL_ASKED: lambda who: _("%(who)s asks you to approve a reply") % {"who": who},
    Kind.APPROVED: lambda who: _("%(who)s approved your reply; it is sent") % {"who": who},
    Kind.RETURNED: lambda who: _("%(who)s sent your reply back") % {"who": who},
    Kind.FOLLOW_UP: lambda who: _("No answer yet: time to follow up"),
    Kind.SLA_BREACHED: lambda who: _("A conversation missed its response target"),
    Kind.RULE: lambda who: _("A rule asked to tell you about a conversation"),
    Kind.WOKEN: lambda who: _("A snoozed conversation is back"),
}


def describe(n: Notification, *, can_open: bool = True) -> tuple[str, str, str]:
    """Title, one line of context, and the address to open.

    ``can_open``: whether the reader may still open the conversation; if not, its number
    and subject stay hidden (``actions.can_open``).
    """
    who = n.actor.agent.name if n.actor and hasattr(n.actor, "agent") else "Madoguchi"
    title = SENTENCES[Kind(n.kind)](who)
    conv = n.conversation
    if conv is None:
        body = ""
    elif can_open:
        body = f"#{conv.pk} {conv.subject}"
    else:
        body = _("A conversation you can no longer open")
    url = reverse("notification_open", args=[n.pk])
    return title, body, url
