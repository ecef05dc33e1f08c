"""Inbox pages: parse the request, check access, call a query or an action, render."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from madoguchi.conversations import actions, queries, timers
from madoguchi.conversations.models import Conversation, Message, Status
from madoguchi.core import blobs, params
from madoguchi.customers import panel as customer_panel
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out import approval, drafts, outgoing
from madoguchi.mail_out.models import Draft, Outbox
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import access_mailbox, assignable, assignees, visible_mailboxes
from madoguchi.reply_templates import actions as template_actions
from madoguchi.web.conversation_forms import NoteForm, ReplyForm, TagForm
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.fragments import automated, fragment_url
from madoguchi.web.rail import rail_of
from madoguchi.web.rows import rows_for

#: Mail HTML runs nothing, loads nothing from outside, and is sandboxed even if opened alone.
MAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:{images}; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@agent_required
def home(request: AgentRequest) -> HttpResponse:
    first = visible_mailboxes(request.agent).order_by("pk").first()
    if first is None:
        return render(request, "conversations/empty.html")
    return redirect("mailbox", mailbox_id=first.pk, tab="new")


@agent_required
def mailbox_list(request: AgentRequest, mailbox_id: int, tab: str) -> HttpResponse:
    mailbox = access_mailbox(request.agent, mailbox_id)
    return _list(request, mailbox=mailbox, view=None, tab=tab)


@agent_required
def view_list(request: AgentRequest, view: str, tab: str) -> HttpResponse:
    if view not in queries.VIEWS:
        raise Http404("no such view")
    return _list(request, mailbox=None, view=view, tab=tab)


def _list(
    request: AgentRequest, *, mailbox: Mailbox | None, view: str | None, tab: str
) -> HttpResponse:
    if tab not in queries.TABS:
        raise Http404("no such tab")
    token = params.get_token(request, "after", queries.CURSOR)
    after = queries.Cursor.parse(token)
    if token and after is None:
        raise params.BadParameter("after", "not a position in the list")
    sort = params.get_choice(request, "sort", queries.SORTS, default="activity")
    rows, cursor = queries.inbox(
        request.agent, mailbox=mailbox, view=view, tab=tab, after=after, sort=sort
    )
    scope = mailbox.conversations.all() if mailbox else queries.scope(request.agent, view)
    boxes = [mailbox.pk] if mailbox else [mb.pk for mb, _ in rail_of(request)]
    where: dict[str, object] = {"mailbox": mailbox.pk} if mailbox else {"view": view}
    return render(request, "conversations/inbox.html", {
        "mailbox": mailbox, "view": view, "tab": tab,
        "rows": rows_for(rows, sort=sort), "sort": sort,
        "next": cursor.token() if cursor else None, "counts": queries.tab_counts(scope),
        "tabs": queries.TABS, "members": assignees(boxes), "statuses": Status,
        "live_rows": fragment_url("live_rows", where, tab=tab, sort=sort),
        "live_counts": fragment_url("live_counts", where, tab=tab),
    })  # fmt: skip


@agent_required
def conversation(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    reply_all = params.get_flag(request, "all")
    actions.mark_read(conv, user_id=_uid(request))
    form = _reply_form(conv, reply_all=reply_all)
    draft = drafts.find(conv, request.user)
    if draft is not None and not reply_all:
        form.initial.update({"to": draft.to, "cc": draft.cc, "text": draft.text,
                             "html": draft.html})  # fmt: skip
    return _render_conversation(request, conv, form=form, draft=draft)


def _render_conversation(
    request: AgentRequest,
    conv: Conversation,
    *,
    form: ReplyForm,
    status: int = 200,
    note_form: NoteForm | None = None,
    tag_form: TagForm | None = None,
    draft: Draft | None = None,
    stale: list[object] | None = None,
) -> HttpResponse:
    history = queries.customer_history(request.agent, conv)
    customer = customer_panel.panel_of(conv.mailbox_id)
    before = params.get_id(request, "before")
    timeline = queries.timeline(conv, before=before)
    undo_id = params.get_id(request, "sent")
    return render(request, "conversations/conversation.html", {
        "conv": conv, "mailbox": conv.mailbox, "timeline": timeline,
        "members": assignees([conv.mailbox_id]), "statuses": Status, "history": history,
        "form": form, "sender": outgoing.sender_for(conv.mailbox, request.user),
        "undo_id": undo_id, "newcomers": queries.newcomers(conv),
        "note_form": note_form or NoteForm(), "tag_form": tag_form or TagForm(), "draft": draft,
        "tags": conv.tags.order_by("name"), "all_tags": queries.known_tags(request.agent),
        "stale": stale, "held": approval.needs_approval(conv.mailbox, request.user),
        "reviewer": request.user.pk in approval.reviewers_of(conv.mailbox),
        "shown": _shown(request, conv, form),
        "live_items": fragment_url("live_items", {}, pk=conv.pk, sent=undo_id or ""),
        "older": before is not None,
        "live_counts": fragment_url("live_counts", {"mailbox": conv.mailbox_id}),
        "customer_links": customer_panel.links_of(conv, customer) if customer else [],
        "customer_info": bool(customer and customer.source_url),
        **automated(conv),
    }, status=status)  # fmt: skip


def _shown(request: AgentRequest, conv: Conversation, form: ReplyForm) -> queries.Shown:
    """How far the page's timeline goes, for its live updates (``fragments.items``)."""
    seen = queries.marks(conv) if form.is_bound else None
    message = seen.message_id if seen else form.initial.get("seen_message", 0)
    note = seen.note_id if seen else form.initial.get("seen_note", 0)
    event = getattr(request, "live_after", None)
    if event is None:  # a form sent back (400, 409): not stamped by the live middleware
        event = conv.events.order_by("-pk").values_list("pk", flat=True).first() or 0
    return queries.Shown(int(message or 0), int(note or 0), int(event))


@agent_required
@xframe_options_sameorigin
def message_html(request: AgentRequest, pk: int, message_id: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    message = queries.access_message(request.agent, conv, message_id)
    images = " https: http:" if request.GET.get("images") == "1" else ""
    doc = (
        '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
        "<style>body{font-family:sans-serif;line-height:1.7;overflow-wrap:anywhere;margin:0}"
        "img{max-width:100%}</style></head><body>" + message.html + "</body></html>"
    )
    response = HttpResponse(doc, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = MAIL_POLICY.format(images=images)
    return response


@agent_required
def message_raw(request: AgentRequest, pk: int, message_id: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    message = queries.access_message(request.agent, conv, message_id)
    outbound = Outbox.objects.filter(message=message).first()
    if message.raw is not None:
        data = bytes(message.raw.data)
    elif outbound is not None:
        data = bytes(outbound.data)
    else:
        raise Http404("no raw mail")
    response = HttpResponse(data, content_type="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
    return response


@agent_required
def attachment(request: AgentRequest, pk: int) -> FileResponse:
    att = queries.access_attachment(request.agent, pk)
    inline = att.content_type in INLINE_TYPES and request.GET.get("preview") == "1"
    return FileResponse(
        blobs.open(att.sha256),
        as_attachment=not inline,
        filename=att.filename,
        content_type=att.content_type if inline else "application/octet-stream",
    )


@agent_required
@require_POST
def assign(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    who = params.get_text(request, "assignee", max_length=20, post=True)
    assignee = _uid(request) if who == "me" else params.parse_id(who) if who else None
    if who and (assignee is None or not assignable(conv.mailbox, assignee)):
        return _back(request, conv.pk, error="assignee")
    actions.assign_conversation(conv, assignee_id=assignee, actor_id=_uid(request))
    return _back(request, conv.pk)


@agent_required
@require_POST
def status(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    value = request.POST.get("status", "")
    if value not in Status.values:
        return _back(request, conv.pk, error="status")
    actions.change_status(conv, Status(value), actor_id=_uid(request))
    return _back(request, conv.pk)


@agent_required
@require_POST
def not_automated(request: AgentRequest, pk: int) -> HttpResponse:
    """This is not automated mail (これは自動送信ではない): back to new mail, perhaps for good."""
    conv = queries.access_conversation(request.agent, pk)
    always = request.POST.get("always", "")
    entry = queries.sender_entries(queries.first_sender(conv)).get(always, "") if always else ""
    if always and not entry:
        return _back(request, conv.pk, error="always")
    actions.mark_not_automated(conv, actor_id=_uid(request), always=entry)
    return _back(request, conv.pk)


def sent_redirect(message: Message) -> HttpResponse:
    """To the conversation, at the message just queued, with its "undo" shown."""
    response = redirect("conversation", pk=message.conversation_id)
    response["Location"] += f"?sent={message.pk}#m{message.pk}"
    return response


def _uid(request: AgentRequest) -> int:
    return request.agent.user_id


def _back(request: AgentRequest, pk: int, *, error: str = "") -> HttpResponse:
    response = redirect("conversation", pk=pk)
    if error:
        response["Location"] += f"?error={error}"
    return response


@agent_required
@require_POST
def reply(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    form = ReplyForm(request.POST, request.FILES, max_bytes=conv.mailbox.max_message_bytes,
                     mailbox_id=conv.mailbox_id)  # fmt: skip
    if not form.is_valid():
        return _render_conversation(request, conv, form=form, status=400)
    then = {"done": Status.DONE, "hold": Status.HOLD}.get(form.cleaned_data["then"])
    try:
        with transaction.atomic():  # the reply, the templates' count and the reminder at once
            message = outbox.queue_reply(
                conv, author=request.user, text=form.cleaned_data["text"],
                to=form.cleaned_data["to"], cc=form.cleaned_data["cc"], then=then,
                html=form.cleaned_data["html"], attachments=form.files_out(),
                seen=form.seen(),
            )  # fmt: skip
            template_actions.count_use(
                form.cleaned_data["templates"], conv=conv, actor_id=_uid(request)
            )
            _follow_up(conv, message, form.cleaned_data["follow_up_days"], user_id=_uid(request))
    except outbox.Stale as refused:
        return _stale(request, conv, refused)
    drafts.discard(conv, request.user)
    return sent_redirect(message)


def _follow_up(conv: Conversation, message: Message, days: int | None, *, user_id: int) -> None:
    """Remind the author if no answer comes in ``days`` business days (calendar days for a
    mailbox that is never open)."""
    if not days:
        return
    now = timezone.now()
    at = calendar_for(conv.mailbox).add_days(now, days) or now + timedelta(days=days)
    timers.set_follow_up(conv, at=at, user_id=user_id, message_id=message.pk)


def _stale(request: AgentRequest, conv: Conversation, refused: outbox.Stale) -> HttpResponse:
    """Refused by the send guard: show what came, keep what they wrote, now against it.

    Sending again is "send anyway"; it is refused again only if yet more arrives.
    """
    data = request.POST.copy()
    now = queries.marks(conv)
    data["seen_message"], data["seen_note"] = str(now.message_id), str(now.note_id)
    form = ReplyForm(data, max_bytes=conv.mailbox.max_message_bytes, mailbox_id=conv.mailbox_id)
    form.is_valid()
    fields = {name: data.get(name, "") for name in ("to", "cc", "text", "html")}
    draft = drafts.save(conv, request.user, **fields)
    return _render_conversation(
        request,
        conv,
        form=form,
        status=409,
        draft=draft,
        stale=refused.changes,  # type: ignore[arg-type]
    )


@agent_required
@require_POST
def undo(request: AgentRequest, pk: int, message_id: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    message = queries.access_message(request.agent, conv, message_id)
    if not outbox.cancel(message, actor=request.user):
        return _back(request, conv.pk, error="undo")
    return _back(request, conv.pk)


@agent_required
@require_POST
def note(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, conv, note_form=form)
    made = actions.add_note(conv, author_id=_uid(request), text=form.cleaned_data["note"])
    response = redirect("conversation", pk=conv.pk)
    response["Location"] += f"#n{made.pk}"
    return response


def _refused(
    request: AgentRequest, conv: Conversation, **forms: NoteForm | TagForm
) -> HttpResponse:
    """The conversation again, with the refused form's messages beside its fields."""
    return _render_conversation(
        request,
        conv,
        form=_reply_form(conv),
        status=400,
        note_form=forms.get("note_form"),  # type: ignore[arg-type]
        tag_form=forms.get("tag_form"),  # type: ignore[arg-type]
    )


def _reply_form(conv: Conversation, *, reply_all: bool = False) -> ReplyForm:
    to, cc = outbox.reply_recipients(conv, reply_all=reply_all)
    seen = queries.marks(conv)
    return ReplyForm(
        initial={"to": to, "cc": cc, "then": "send", "seen_message": seen.message_id,
                 "seen_note": seen.note_id},
        max_bytes=conv.mailbox.max_message_bytes, mailbox_id=conv.mailbox_id,
    )  # fmt: skip


@agent_required
@require_POST
def tag(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    form = TagForm(request.POST)
    if not form.is_valid():
        return _refused(request, conv, tag_form=form)
    actions.tag_conversation(conv, form.cleaned_data["tag"], actor_id=_uid(request))
    return _back(request, conv.pk)


@agent_required
@require_POST
def untag(request: AgentRequest, pk: int, tag_id: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    found = conv.tags.filter(pk=tag_id).first()
    if found is None:
        raise Http404("no such tag on this conversation")
    actions.untag_conversation(conv, found, actor_id=_uid(request))
    return _back(request, conv.pk)
