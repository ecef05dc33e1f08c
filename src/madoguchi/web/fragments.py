"""Live fragments (``/f/...``): the few parts of a page that one change affects.

A tab that hears of a change (``static/madoguchi/live.js``) asks only for what it shows:

- ``counts``: the rail (new per mailbox), the Unassigned count, the bell, the approvals
  count and, on a list, its tab counts;
- ``rows``: the list rows of the conversations the events named: each one that belongs in
  the list now, and the ids that no longer do (status or assignee changed, merged, gone);
- ``items``: the conversation's meta, its "automated" notice, its action menus and the
  timeline items newer than the tab's (plus those the events named, whose delivery changed).

Each checks access like the page it belongs to (404 for a mailbox or conversation one may
not see, 400 for a bad parameter) and costs a fixed number of queries whatever the number
of rows or ids (``tests/web/test_query_counts.py``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from madoguchi.conversations import queries
from madoguchi.conversations.models import Conversation, Kind, Status
from madoguchi.core import params
from madoguchi.mail_out import approval
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import access_mailbox, assignees
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.rows import rows_for

#: The most conversations one ``rows`` request names (a burst of events is batched).
MAX_IDS = 100


def fragment_url(name: str, where: dict[str, object], **query: object) -> str:
    """The address of a fragment, with the non-empty parameters of the page it serves."""
    kwargs = {"pk": query.pop("pk")} if "pk" in query else {}
    values = {k: v for k, v in {**where, **query}.items() if v not in ("", None)}
    return reverse(name, kwargs=kwargs) + ("?" + urlencode(values) if values else "")


def _list_of(request: AgentRequest) -> tuple[Mailbox | None, str | None]:
    """The list a fragment is for: ``?mailbox=<id>`` or ``?view=<mine|unassigned|all>``."""
    mailbox_id = params.get_id(request, "mailbox")
    view = params.get_choice(request, "view", queries.VIEWS, default="")
    if mailbox_id is not None and view:
        raise params.BadParameter("view", "give a mailbox or a view, not both")
    mailbox = access_mailbox(request.agent, mailbox_id) if mailbox_id is not None else None
    return mailbox, view or None


@agent_required
def counts(request: AgentRequest) -> HttpResponse:
    """The shell's numbers; with ``tab`` also the tab counts of the mailbox or view."""
    mailbox, view = _list_of(request)
    tab = params.get_choice(request, "tab", queries.TABS, default="")
    context: dict[str, object] = {"mailbox": mailbox, "view": view, "tab": tab}
    if tab and (mailbox or view):
        scope = mailbox.conversations.all() if mailbox else queries.scope(request.agent, view)
        context |= {"tabs": queries.TABS, "counts": queries.tab_counts(scope)}
    elif tab:
        raise params.BadParameter("tab", "tabs belong to a mailbox or a view")
    return render(request, "live/counts.html", context)


@agent_required
def rows(request: AgentRequest) -> HttpResponse:
    """Rows of the conversations ``c`` as the list shows them now, and those that left it."""
    mailbox, view = _list_of(request)
    if mailbox is None and view is None:
        raise params.BadParameter("mailbox", "give a mailbox or a view")
    tab = params.get_choice(request, "tab", queries.TABS, default="new")
    sort = params.get_choice(request, "sort", queries.SORTS, default="activity")
    ids = list(dict.fromkeys(params.get_ids(request, "c", post=False, limit=MAX_IDS)))
    found = queries.listed_among(request.agent, ids, mailbox=mailbox, view=view, tab=tab, sort=sort)
    shown = {conv.pk for conv in found}
    return render(request, "live/rows.html", {
        "rows": rows_for(found, sort=sort), "mailbox": mailbox,
        "gone": [pk for pk in ids if pk not in shown],
    })  # fmt: skip


@agent_required
def items(request: AgentRequest, pk: int) -> HttpResponse:
    """A conversation's meta and the timeline items after ``m``, ``n`` and ``e``."""
    conv = queries.access_conversation(request.agent, pk)
    shown = queries.Shown(_mark(request, "m"), _mark(request, "n"), _mark(request, "e"))
    since = queries.timeline_since(
        conv,
        shown,
        messages=params.get_ids(request, "msg", post=False, limit=MAX_IDS),
        notes=params.get_ids(request, "note", post=False, limit=MAX_IDS),
        events=params.get_ids(request, "ev", post=False, limit=MAX_IDS),
    )
    return render(request, "live/items.html", {
        "conv": conv, "since": since, "timeline": since.items, "shown": since.shown,
        "members": assignees([conv.mailbox_id]), "statuses": Status,
        "undo_id": params.get_id(request, "sent"),
        "reviewer": request.user.pk in approval.reviewers_of(conv.mailbox)
        if _has_outbound(since.items) else False,
        **automated(conv),
    })  # fmt: skip


def _mark(request: AgentRequest, name: str) -> int:
    """A timeline mark: an id, or 0 for "none yet" (a conversation without notes)."""
    return 0 if request.GET.get(name) == "0" else params.get_id(request, name) or 0


def _has_outbound(found: list[object]) -> bool:
    return any(getattr(item, "direction", "") == "out" for item in found)


def automated(conv: Conversation) -> dict[str, object]:
    """What the "not automated" form shows: the evidence and the sender's entries."""
    if conv.kind == Kind.NORMAL:
        return {}
    entries = queries.sender_entries(queries.first_sender(conv))
    return {"kind_reason": queries.kind_reason(conv), "sender_entries": entries}
