"""Reads of conversations, always through what the user may see."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from madoguchi.accounts.models import Agent
from madoguchi.conversations.models import (
    Attachment,
    Conversation,
    Kind,
    Message,
    Note,
    Status,
    Tag,
)
from madoguchi.core import event_types
from madoguchi.core.params import MAX_ID
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import visible_mailboxes

PAGE = 50
COUNT_CAP = 99  # tabs show 99+ beyond it, as most inboxes do
#: Tabs of a mailbox: the statuses, plus automated mail kept out of "new".
TABS = ("new", "open", "hold", "done", "auto", "spam", "trash")
VIEWS = ("mine", "unassigned", "all")
#: List orders: newest activity first, the customer who has waited longest first, or the
#: SLA due soonest first (conversations without a due time last).
SORTS = ("activity", "waiting", "due")
#: Where a conversation without a due time stands in the "due" order (its cursor's time).
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)

#: What ``Cursor.token`` writes: seconds with six decimals, "_", the row's id (ASCII only).
CURSOR = re.compile(r"[0-9]{1,12}\.[0-9]{6}_[0-9]{1,19}", re.ASCII)
#: Events the timeline leaves out (declared ``quiet`` in ``core.event_types``).
QUIET_EVENTS = sorted(event_types.QUIET)


def access_conversation(agent: Agent, pk: int) -> Conversation:
    """The conversation ``agent`` may see (one query); 404 when missing or not theirs."""
    conv = (
        Conversation.objects.select_related("mailbox", "contact", "assignee__agent")
        .filter(pk=pk, mailbox__in=visible_mailboxes(agent))
        .first()
    )
    if conv is None:
        raise Http404("no such conversation")
    return conv


@dataclass(frozen=True)
class Marks:
    """How far a conversation went: its newest message and note (the send guard's "seen")."""

    message_id: int
    note_id: int


def marks(conv: Conversation) -> Marks:
    newest = conv.messages.order_by("-pk").values_list("pk", flat=True).first()
    note = conv.notes.order_by("-pk").values_list("pk", flat=True).first()
    return Marks(newest or 0, note or 0)


def changes_since(conv: Conversation, seen: Marks) -> list[Message | Note]:
    """Messages (in or out, not taken back) and notes that arrived after ``seen``, in order.

    ``seen`` comes from a form: ids beyond what the database holds mean "saw everything".
    """
    seen = Marks(min(seen.message_id, MAX_ID), min(seen.note_id, MAX_ID))
    messages = list(
        conv.messages.filter(pk__gt=seen.message_id)
        .exclude(outbox__status="cancelled")
        .select_related("author__agent")
        .order_by("pk")
    )
    notes = list(conv.notes.filter(pk__gt=seen.note_id).select_related("author__agent"))
    items: list[Message | Note] = [*messages, *notes]
    return sorted(
        items, key=lambda item: item.received_at if isinstance(item, Message) else item.created_at
    )


def access_message(agent: Agent, conversation: Conversation, pk: int) -> Message:
    """A message of ``conversation``, which the caller got from ``access_conversation``."""
    message = Message.objects.filter(pk=pk, conversation=conversation).select_related("raw").first()
    if message is None:
        raise Http404("no such message")
    return message


def access_attachment(agent: Agent, pk: int) -> Attachment:
    att = (
        Attachment.objects.select_related("message")
        .filter(pk=pk, message__mailbox__in=visible_mailboxes(agent))
        .first()
    )
    if att is None:
        raise Http404("no such attachment")
    return att


def _tab_filter(tab: str) -> Q:
    if tab == "new":
        return Q(status=Status.NEW, kind=Kind.NORMAL)
    if tab == "auto":
        return Q(status=Status.NEW) & ~Q(kind=Kind.NORMAL)
    return Q(status=tab)


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the last row shown (newest activity first)."""

    at: datetime
    pk: int

    def token(self) -> str:
        return f"{self.at.timestamp():.6f}_{self.pk}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """The cursor ``token()`` wrote, or None for anything else (``inf_1``, ``²_1`` …)."""
        if not token or not CURSOR.fullmatch(token):
            return None
        stamp, pk = token.split("_")
        try:
            at = datetime.fromtimestamp(float(stamp), tz=UTC)
        except (ValueError, OverflowError, OSError):  # beyond the years a datetime holds
            return None
        number = int(pk)
        return cls(at, number) if number <= MAX_ID else None


def listed(
    agent: Agent, *, mailbox: Mailbox | None, view: str | None, tab: str, sort: str = "activity"
) -> QuerySet[Conversation]:
    """Every conversation of one list (a mailbox's tab, or a view's), in its order.

    The caller checked ``mailbox`` (``access_mailbox``); a view spans the visible mailboxes.
    ``sort="waiting"`` keeps only conversations whose customer waits for an answer.
    """
    rows = Conversation.objects.filter(_tab_filter(tab))
    rows = (
        rows.filter(mailbox=mailbox)
        if mailbox
        else rows.filter(mailbox__in=visible_mailboxes(agent))
    )
    if view == "mine":
        rows = rows.filter(assignee_id=agent.user_id)
    elif view == "unassigned":
        rows = rows.filter(assignee__isnull=True)
    if sort == "waiting":
        return rows.filter(waiting_since__isnull=False).order_by("waiting_since", "pk")
    if sort == "due":
        return rows.order_by(F("due_at").asc(nulls_last=True), "pk")
    return rows.order_by("-last_activity_at", "-pk")


#: Mailbox columns a list never reads: the passwords would be decrypted for every row.
UNLISTED = ("mailbox__imap_password", "mailbox__smtp_password", "mailbox__signature")


def _shown(rows: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """What a list row reads besides the conversation and its tags (``tag_names``)."""
    return rows.select_related("contact", "assignee__agent", "mailbox").defer(*UNLISTED)


def tag_names(conversation_ids: Collection[int]) -> dict[int, list[str]]:
    """The tags of each conversation by name, in one query (no model objects: a list of 50
    rows reads them in a quarter of the time ``prefetch_related`` takes)."""
    found: dict[int, list[str]] = {pk: [] for pk in conversation_ids}
    pairs = (
        Conversation.tags.through.objects.filter(conversation_id__in=conversation_ids)
        .order_by("tag__name")
        .values_list("conversation_id", "tag__name")
    )
    for pk, name in pairs:
        found[pk].append(name)
    return found


def inbox(
    agent: Agent,
    *,
    mailbox: Mailbox | None,
    view: str | None,
    tab: str,
    after: Cursor | None = None,
    sort: str = "activity",
) -> tuple[list[Conversation], Cursor | None]:
    """One page of conversations and the cursor of the next page (None at the end).

    ``sort="waiting"`` lists only conversations whose customer waits for an answer, the
    longest-waiting first (index ``conv_waiting_idx``); ``sort="due"`` the SLA due soonest
    first, those without a due time after them (index ``conv_due_idx``).
    """
    rows = listed(agent, mailbox=mailbox, view=view, tab=tab, sort=sort)
    if after and sort == "due":
        rows = rows.filter(_after_due(after))
    elif after and sort == "waiting":
        rows = rows.filter(waiting_since__gte=after.at).filter(
            Q(waiting_since__gt=after.at) | Q(pk__gt=after.pk)
        )
    elif after:
        # "<= at" first: a range the (…, last_activity_at, id) index can seek to directly.
        rows = rows.filter(last_activity_at__lte=after.at).filter(
            Q(last_activity_at__lt=after.at) | Q(pk__lt=after.pk)
        )
    page = list(_shown(rows)[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    if not more:
        return page, None
    return page, position(page[-1], sort)


def _after_due(after: Cursor) -> Q:
    """The rows after ``after`` in the "due" order (due soonest first, no due time last)."""
    if after.at >= NO_DUE:
        return Q(due_at__isnull=True, pk__gt=after.pk)
    later = Q(due_at__gt=after.at) | Q(due_at=after.at, pk__gt=after.pk)
    return later | Q(due_at__isnull=True)


def position(conv: Conversation, sort: str) -> Cursor:
    """Where ``conv`` stands in a list sorted by ``sort`` (its rows carry it, to be placed)."""
    if sort == "due":
        return Cursor(conv.due_at or NO_DUE, conv.pk)
    at = conv.waiting_since if sort == "waiting" else conv.last_activity_at
    return Cursor(at or conv.last_activity_at, conv.pk)


def listed_among(
    agent: Agent,
    ids: list[int],
    *,
    mailbox: Mailbox | None,
    view: str | None,
    tab: str,
    sort: str = "activity",
) -> list[Conversation]:
    """Those of ``ids`` that belong in the list now (a live update of its rows).

    Ids the agent may not see, gone, or no longer matching the tab, are simply absent.
    """
    if not ids:
        return []
    rows = listed(agent, mailbox=mailbox, view=view, tab=tab, sort=sort).filter(pk__in=ids)
    return list(_shown(rows))


def tab_counts(rows: QuerySet[Conversation]) -> dict[str, int]:
    """Conversations per tab, each counted only up to COUNT_CAP (shown as "99+").

    One statement of seven capped counts (``SELECT (…), (…), …``): the same index seeks as
    seven queries, without six more round trips through the ORM.
    """
    parts, params = [], []
    for tab in TABS:
        capped = rows.filter(_tab_filter(tab)).order_by().values("pk")[: COUNT_CAP + 1]
        sql, values = capped.query.get_compiler(using=rows.db).as_sql()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")
        params.extend(values)
    with connections[rows.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        found = cursor.fetchone()
    return dict(zip(TABS, found, strict=True))


class CappedCount(Subquery):
    """``COUNT(*)`` of a sliced subquery: an exact count up to the slice, cheap beyond it."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def rail(agent: Agent) -> list[tuple[Mailbox, int]]:
    """The visible mailboxes with their new conversations (capped like the tabs), one query.
    Each mailbox also carries ``unassigned``: its new conversations nobody has (capped)."""
    new = Conversation.objects.filter(_tab_filter("new"), mailbox_id=OuterRef("pk"))
    capped = CappedCount(new.order_by().values("pk")[: COUNT_CAP + 1])
    nobody = new.filter(assignee__isnull=True).order_by().values("pk")[: COUNT_CAP + 1]
    boxes = visible_mailboxes(agent).only("pk", "name", "address")
    boxes = boxes.annotate(new=capped, unassigned=CappedCount(nobody))
    boxes = boxes.order_by("pk")
    return [(box, box.new) for box in boxes]


#: Messages a conversation page shows at once (plus the first one, always).
TIMELINE_PAGE = 50
#: Notes and events shown beside one page of messages, at most of each.
TIMELINE_LINES = 300


@dataclass(frozen=True)
class Gap:
    """Messages left out between the first message and the page: "show earlier messages"."""

    count: int
    before: int  # the ``?before=`` of the page just older than the one shown

    is_gap = True


@dataclass(frozen=True)
class Newer:
    """The page shown is not the newest: a link back to it."""

    is_newer = True


def timeline(
    conv: Conversation, *, before: int | None = None, size: int = TIMELINE_PAGE
) -> list[object]:
    """Messages, notes and activity of a conversation in order (events as quiet lines).

    A bounded page whatever the conversation's length: the newest ``size`` messages (older
    than message ``before`` if given), the conversation's first message, a ``Gap`` between
    them when messages are left out, and the notes and events of the time the page covers.
    """
    rows = conv.messages.select_related("outbox").prefetch_related("attachments")
    window = rows.filter(pk__lt=min(before, MAX_ID)) if before else rows
    page = list(window.order_by("-pk")[: size + 1])
    more = len(page) > size
    page = page[:size][::-1]
    head: list[Message] = []
    gap: Gap | None = None
    if more:
        first = rows.order_by("pk").first()
        assert first is not None and page
        head = [first]
        hidden = window.filter(pk__gt=first.pk, pk__lt=page[0].pk).count()
        if hidden:
            gap = Gap(hidden, page[0].pk)
    elif before and not page:
        head = list(rows.order_by("pk")[:1])
    start = page[0].received_at if page and (gap or before) else None
    end = None
    if before:
        after = conv.messages.filter(pk__gte=before).order_by("pk").values("received_at").first()
        end = after["received_at"] if after else None
    notes = _lines(conv.notes.select_related("author__agent"), "created_at", start, end)
    log = _lines(
        conv.events.select_related("actor__agent").exclude(type__in=QUIET_EVENTS),
        "created_at",
        start,
        end,
    )
    items = _in_time_order(page, notes, log)
    tail: list[object] = [Newer()] if before else []
    return [*head, *([gap] if gap else []), *items, *tail]


@dataclass(frozen=True)
class Shown:
    """How far a tab's timeline goes: its newest message, note and event ids."""

    message: int = 0
    note: int = 0
    event: int = 0


@dataclass(frozen=True)
class Since:
    """What a timeline gained after ``Shown``, and how far it then goes."""

    items: list[object]
    shown: Shown
    #: More came than one answer holds: the tab loads the page again instead.
    truncated: bool


def timeline_since(
    conv: Conversation,
    shown: Shown,
    *,
    messages: Collection[int] = (),
    notes: Collection[int] = (),
    events: Collection[int] = (),
) -> Since:
    """The timeline items of ``conv`` newer than ``shown``, plus those named (by the live
    events the tab got: a message whose delivery changed, or one that committed out of id
    order), in timeline order. Three queries plus the attachments, whatever the ids.
    """
    cap = min(shown.message, MAX_ID), min(shown.note, MAX_ID), min(shown.event, MAX_ID)
    found = list(
        conv.messages.select_related("outbox")
        .prefetch_related("attachments")
        .filter(Q(pk__gt=cap[0]) | Q(pk__in=messages))
        .order_by("pk")[: TIMELINE_PAGE + 1]
    )
    written = list(
        conv.notes.select_related("author__agent")
        .filter(Q(pk__gt=cap[1]) | Q(pk__in=notes))
        .order_by("pk")[: TIMELINE_LINES + 1]
    )
    log = list(
        conv.events.select_related("actor__agent")
        .exclude(type__in=QUIET_EVENTS)
        .filter(Q(pk__gt=cap[2]) | Q(pk__in=events))
        .order_by("pk")[: TIMELINE_LINES + 1]
    )
    truncated = len(found) > TIMELINE_PAGE or max(len(written), len(log)) > TIMELINE_LINES
    items = _in_time_order(found, written, log)
    reached = Shown(
        max([shown.message, *(m.pk for m in found)]),
        max([shown.note, *(n.pk for n in written)]),
        max([shown.event, *(e.pk for e in log)]),
    )
    return Since(items, reached, truncated)


def _in_time_order(messages: list[Any], notes: list[Any], log: list[Any]) -> list[object]:
    """Messages, notes and event lines as one timeline: by time; at the same instant an
    event line first, then the message, then the note."""
    merged: list[tuple[datetime, int, object]] = [(m.received_at, 1, m) for m in messages]
    merged += [(n.created_at, 2, n) for n in notes]
    merged += [(e.created_at, 0, e) for e in log]
    return [item for _, _, item in sorted(merged, key=lambda t: (t[0], t[1]))]


def _lines(
    rows: QuerySet[Any], field: str, start: datetime | None, end: datetime | None
) -> list[Any]:
    """The newest ``TIMELINE_LINES`` of ``rows`` between ``start`` and ``end``, oldest first."""
    if start is not None:
        rows = rows.filter(**{f"{field}__gte": start})
    if end is not None:
        rows = rows.filter(**{f"{field}__lt": end})
    return list(rows.order_by("-pk")[:TIMELINE_LINES])[::-1]


def scope(agent: Agent, view: str | None) -> QuerySet[Conversation]:
    """The conversations a cross-mailbox view counts over."""
    rows = Conversation.objects.filter(mailbox__in=visible_mailboxes(agent))
    if view == "mine":
        return rows.filter(assignee_id=agent.user_id)
    if view == "unassigned":
        return rows.filter(assignee__isnull=True)
    return rows


def customer_history(agent: Agent, conv: Conversation) -> list[Conversation]:
    """The customer's other conversations in every mailbox the user may see."""
    if conv.contact_id is None:
        return []
    return list(
        Conversation.objects.filter(
            contact_id=conv.contact_id, mailbox__in=visible_mailboxes(agent)
        )
        .exclude(pk=conv.pk)
        .select_related("mailbox")
        .order_by("-last_activity_at")[:20]
    )


def kind_reason(conv: Conversation) -> str:
    """The structural evidence that put ``conv`` among automated mail ('' if none stored)."""
    first = (
        Message.objects.filter(conversation=conv, direction="in")
        .exclude(kind=Kind.NORMAL)
        .order_by("pk")
        .values_list("kind_reason", flat=True)
        .first()
    )
    return first or ""


def first_sender(conv: Conversation) -> str:
    """The address of the first customer mail of ``conv``, lower-cased ('' if none)."""
    email = (
        Message.objects.filter(conversation=conv, direction="in")
        .exclude(from_email="")
        .order_by("pk")
        .values_list("from_email", flat=True)
        .first()
    )
    return email.lower() if email and "@" in email else ""


def sender_entries(email: str) -> dict[str, str]:
    """The "always a person" entries a sender offers: its address and its ``@domain``."""
    if not email:
        return {}
    return {"address": email, "domain": "@" + email.rpartition("@")[2]}


def reply_source(conv: Conversation) -> Message | None:
    """The mail a reply answers by default: the newest inbound mail of a participant.

    Mail from a newcomer (``Message.new_participant``) never picks the reply's recipients;
    the agent adds a newcomer by hand (``participants``).
    """
    return conv.messages.filter(direction="in", new_participant=False).order_by("-pk").first()


def newcomers(conv: Conversation, *, limit: int = 5) -> list[str]:
    """Addresses of newcomers' mail that are not yet participants, newest first."""
    from madoguchi.conversations.participants import known_addresses

    rows = (
        conv.messages.filter(direction="in", new_participant=True)
        .exclude(from_email="")
        .order_by("-pk")
        .values_list("from_email", flat=True)[:50]
    )
    found = list(dict.fromkeys(e.lower() for e in rows))
    if not found:
        return []
    known = known_addresses([conv.pk])[conv.pk]
    return [e for e in found if e not in known][:limit]


def known_tags(agent: Agent, *, limit: int = 500) -> list[Tag]:
    """The tags on conversations of mailboxes ``agent`` may see: the picker offers no others.

    Tags are shared by name across the team, but a tag name can say something about
    another mailbox's customers (「A社買収」), so it is listed only where it is used.
    """
    used = Conversation.tags.through.objects.filter(
        tag_id=OuterRef("pk"), conversation__mailbox__in=visible_mailboxes(agent)
    )
    # one probe per tag (a team has hundreds), not a DISTINCT over every tagged conversation
    return list(Tag.objects.filter(Exists(used)).order_by("name")[:limit])
