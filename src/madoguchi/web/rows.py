"""What one inbox row shows, computed in Python: 50 rows render in a fraction of the time
the template language needs to resolve the same lookups and filters itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.conversations.models import Conversation, Kind, Status
from madoguchi.conversations.queries import tag_names
from madoguchi.web.templatetags.inbox import age, longdate, waited


@dataclass(frozen=True, slots=True)
class Row:
    url: str
    who: str
    subject: str
    snippet: str
    mailbox: str
    assignee: str
    initials: str
    unread: bool
    at: datetime
    #: ``at`` in the reader's time zone, ISO 8601 (``<time datetime>``).
    iso: str
    age: str
    when: str
    tags: tuple[str, ...]
    pk: int
    #: The tick box's label, "Select #12".
    label: str
    #: Its place in the list's order (``queries.Cursor.token``): a live row is put there.
    key: str
    #: Words that look automated on a conversation that stays new (a hint, never a move).
    hint: bool = False


def rows_for(conversations: list[Conversation], *, waiting: bool = False) -> list[Row]:
    """``waiting``: the age shown is how long the customer has waited, not last activity."""
    base = reverse("conversation", args=[0])[:-2]  # "/c/"
    untitled, select = _("(no subject)"), _("Select #%(n)s")
    tags = tag_names([conv.pk for conv in conversations])
    result = []
    for conv in conversations:
        contact = conv.contact
        since = conv.waiting_since if waiting else None
        at = since or conv.last_activity_at
        agent = getattr(conv.assignee, "agent", None) if conv.assignee else None
        name = agent.name if agent else (conv.assignee.get_username() if conv.assignee else "")
        initials = agent.initials if agent else name[:2]
        result.append(
            Row(
                url=f"{base}{conv.pk}/",
                who=(contact.name if contact else "") or "—",
                subject=conv.subject or untitled,
                snippet=conv.snippet,
                mailbox=conv.mailbox.name or conv.mailbox.address,
                assignee=name,
                initials=initials,
                unread=conv.status == Status.NEW or conv.unread,
                at=at,
                iso=timezone.localtime(at).isoformat(),
                age=waited(since) if since else age(at),
                when=longdate(at),
                tags=tuple(tags[conv.pk]),
                pk=conv.pk,
                label=select % {"n": conv.pk},
                key=f"{at.timestamp():.6f}_{conv.pk}",
                hint=bool(conv.kind_hint) and conv.kind == Kind.NORMAL,
            )
        )
    return result
