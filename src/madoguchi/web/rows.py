"""What one inbox row shows, computed in Python: 50 rows render in a fraction of the time
the template language needs to resolve the same lookups and filters itself.

Triage at a glance (issue 12): every row names its assignee, how long the customer has
waited, the SLA time left (red once overdue), until when it is snoozed, and its tags —
all from the conversation's own columns, so a row costs no query of its own. The SLA time
left is wall-clock time to ``due_at`` (which the SLA counted in business hours), not
business time: "3 h left" on Friday evening may fall due on Monday morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from madoguchi.conversations.models import Conversation, Kind, Status
from madoguchi.conversations.queries import position, tag_names
from madoguchi.web.templatetags.inbox import age, longdate, waited

#: Less time left than this: the SLA badge warns (amber) before it turns red.
SOON = timedelta(hours=1)
#: Statuses whose SLA still runs (a done conversation shows no due time).
RUNNING = (Status.NEW, Status.OPEN, Status.HOLD)


@dataclass(frozen=True, slots=True)
class Due:
    """The SLA badge: "2 h left", or "overdue 1 h" in red."""

    text: str
    #: "overdue", "soon" or "" (plenty of time).
    level: str
    #: The due time itself, for the tooltip.
    title: str


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
    #: The assignee's short name (the first word of their name: 佐藤).
    short: str = ""
    #: How long the customer has waited for an answer ("waiting 3 h"; '' when they do not).
    waited: str = ""
    #: The SLA badge (None: no target running).
    due: Due | None = None
    #: "snoozed until 12/3 9:00" on a snoozed conversation ('' otherwise).
    snoozed: str = ""
    #: The snooze's end in full, for the tooltip.
    snoozed_title: str = ""


def rows_for(
    conversations: list[Conversation], *, waiting: bool = False, sort: str | None = None
) -> list[Row]:
    """``waiting``: the age shown is how long the customer has waited, not last activity.
    ``sort``: the list's order, for each row's ``key`` (``waiting`` stands for "waiting")."""
    sort = sort or ("waiting" if waiting else "activity")
    base = reverse("conversation", args=[0])[:-2]  # "/c/"
    untitled, select = _("(no subject)"), _("Select #%(n)s")
    tags = tag_names([conv.pk for conv in conversations])
    now = timezone.now()
    result = []
    for conv in conversations:
        contact = conv.contact
        since = conv.waiting_since if sort == "waiting" else None
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
                key=_key(conv, sort, at),
                hint=bool(conv.kind_hint) and conv.kind == Kind.NORMAL,
                short=name.split()[0] if name.strip() else "",
                waited=waited(conv.waiting_since) if conv.waiting_since and not since else "",
                due=due_badge(conv, now),
                snoozed=_snoozed(conv, now),
                snoozed_title=longdate(conv.snoozed_until) if _is_snoozed(conv) else "",
            )
        )
    return result


def _key(conv: Conversation, sort: str, at: datetime) -> str:
    if sort == "due":
        return position(conv, "due").token()
    return f"{at.timestamp():.6f}_{conv.pk}"


def due_badge(conv: Conversation, now: datetime) -> Due | None:
    """The SLA badge of ``conv`` at ``now`` (wall-clock time to its due time)."""
    if conv.due_at is None or conv.status not in RUNNING:
        return None
    left = conv.due_at - now
    title = _("Due %(when)s") % {"when": longdate(conv.due_at)}
    if conv.breached_at is not None or left <= timedelta(0):
        return Due(_("overdue %(time)s") % {"time": span(-left)}, "overdue", title)
    return Due(_("%(time)s left") % {"time": span(left)}, "soon" if left < SOON else "", title)


def span(length: timedelta) -> str:
    """A short length of time: 45 min, 3 h, 2 d (rounded down, at least a minute)."""
    minutes = max(int(length.total_seconds() // 60), 1)
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    if minutes < 60 * 24:
        return _("%(n)d h") % {"n": minutes // 60}
    return _("%(n)d d") % {"n": minutes // (60 * 24)}


def _is_snoozed(conv: Conversation) -> bool:
    return conv.snoozed_until is not None and conv.status == Status.HOLD


def _snoozed(conv: Conversation, now: datetime) -> str:
    if not _is_snoozed(conv):
        return ""
    assert conv.snoozed_until is not None
    return _("snoozed until %(when)s") % {"when": moment(conv.snoozed_until, now)}


def moment(value: datetime, now: datetime) -> str:
    """A time soon to come, short: 15:00 today, 12/3 9:00 (Dec 3 9:00) this year."""
    local, today = timezone.localtime(value), timezone.localtime(now)
    clock = f"{local.hour}:{local.minute:02d}"
    if local.date() == today.date():
        return clock
    if local.year != today.year:
        return f"{local.year}/{local.month}/{local.day} {clock}"
    if _japanese():
        return f"{local.month}/{local.day} {clock}"
    return f"{local:%b} {local.day} {clock}"


def _japanese() -> bool:
    return (translation.get_language() or "").startswith("ja")
