"""The search page (``/search/?q=…``) and saved searches (views of one's own in the rail).

Thin: ``search.queries`` finds, this page shows each conversation found as a row with the
matched words marked in its subject and in a snippet of the message or note that matched,
and links to the conversation with ``?q=`` so it marks them there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.conversations.models import Status
from madoguchi.core import params
from madoguchi.search import queries, saved
from madoguchi.search.backends import SearchUnavailable
from madoguchi.search.models import EntryKind
from madoguchi.search.query import MAX_QUERY
from madoguchi.search.snippets import Piece, mark, snippet
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.rows import Row, rows_for

#: A search box longer than this is refused (400); up to it, the first MAX_QUERY count.
MAX_Q = 2000


@dataclass(frozen=True)
class Result:
    row: Row
    url: str
    subject: list[Piece]
    snippet: list[Piece]
    #: "Note" when the match was in a note (the snippet is the note's).
    where: str
    status: str


def _error(code: str, detail: str) -> str:
    sentences = {
        "too_many": _("Only the first %(value)s words were searched."),
        "empty": _("“%(value)s:” needs something after the colon."),
        "date": _("“%(value)s” is not a date: write it as 2026-12-01."),
        "value": _("Search does not know “%(value)s”."),
        "mailbox": _("None of your mailboxes is called “%(value)s”."),
        "status": _("“%(value)s” is not a status (new, open, hold, done, spam, trash)."),
        "assignee": _("Nobody is called “%(value)s”."),
    }
    return sentences.get(code, _("Search does not know “%(value)s”.")) % {"value": detail}


def _result(row: Row, hit: queries.Hit, needles: list[str], q: str) -> Result:
    entry, where, text = hit.entry, "", ""
    if entry is not None and entry.kind == EntryKind.NOTE and entry.note is not None:
        where, text = _("Note"), entry.note.text
    elif entry is not None and entry.message is not None:
        text = entry.message.text
    else:
        text = hit.conversation.snippet
    return Result(
        row=row,
        url=f"{row.url}?{urlencode({'q': q})}",
        subject=mark(row.subject, needles),
        snippet=snippet(text, needles),
        where=where,
        status=Status(hit.conversation.status).label,
    )


@agent_required
def results(request: AgentRequest) -> HttpResponse:
    q = params.get_text(request, "q", max_length=MAX_Q)
    order = params.get_choice(request, "order", queries.ORDERS, default="newest")
    cursor = params.get_id(request, "after")
    try:
        found = queries.search(request.agent, q, cursor=cursor, order=order)
    except SearchUnavailable:
        found = None
    items: list[Result] = []
    errors: list[str] = []
    if found is not None:
        rows = rows_for([hit.conversation for hit in found.hits])
        needles = found.query.needles
        items = [_result(r, h, needles, q) for r, h in zip(rows, found.hits, strict=True)]
        errors = [_error(code, detail) for code, detail in found.errors]
    else:
        errors = [_("Search needs SQLite or PostgreSQL.")]
    base = reverse("search")
    kept = saved.saved_searches(request.agent.user_id)
    return render(request, "search/results.html", {
        "q": q, "order": order, "items": items, "errors": errors, "searched": bool(q.strip()),
        "next": found.next_cursor if found else None, "more": found.more if found else False,
        "newest_url": f"{base}?{urlencode({'q': q})}",
        "relevance_url": f"{base}?{urlencode({'q': q, 'order': 'relevance'})}",
        "next_url": f"{base}?{urlencode({'q': q, 'order': order, 'after': found.next_cursor})}"
        if found and found.next_cursor else "",
        # The rail's list too (this page's context wins over the context processor's).
        "saved_searches": kept,
        "saved_here": next((s for s in kept if s.query == q.strip()), None),
        "max_query": MAX_QUERY,
    })  # fmt: skip


@require_POST
@agent_required
def save(request: AgentRequest) -> HttpResponse:
    q = params.get_text(request, "q", max_length=MAX_QUERY, post=True).strip()
    name = params.get_text(request, "name", max_length=80, post=True).strip() or q[:80]
    back = f"{reverse('search')}?{urlencode({'q': q})}"
    if not q:
        messages.error(request, _("Search for something first, then save it."))
        return redirect(back)
    try:
        saved.save_search(request.agent.user_id, name, q)
    except saved.TooMany:
        messages.error(
            request, _("You keep %(n)s saved searches already: delete one first.")
            % {"n": saved.MAX_SAVED},
        )  # fmt: skip
    else:
        messages.success(request, _("Saved as “%(name)s”: it is in the rail.") % {"name": name})
    return redirect(back)


@require_POST
@agent_required
def delete(request: AgentRequest, pk: int) -> HttpResponse:
    if saved.delete_search(request.agent.user_id, pk):
        messages.success(request, _("The saved search is gone."))
    q = params.get_text(request, "q", max_length=MAX_QUERY, post=True)
    return redirect(f"{reverse('search')}?{urlencode({'q': q})}")
