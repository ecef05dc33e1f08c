"""Writing mail other than a reply: forward a message, start a new conversation; and the
draft that the composer saves as the agent types."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from madoguchi.conversations import actions, queries
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out import drafts
from madoguchi.mailboxes.queries import access_mailbox
from madoguchi.web.conversation_forms import ForwardForm, NewConversationForm
from madoguchi.web.conversations import sent_redirect
from madoguchi.web.templatetags.inbox import longdate


def _author(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # views are login_required
    return request.user


@login_required
@require_POST
def save_draft(request: HttpRequest, pk: int) -> JsonResponse:
    conv = queries.access_conversation(request.user, pk)
    fields = {name: request.POST.get(name, "") for name in ("to", "cc", "text", "html")}
    if not (fields["text"].strip() or fields["html"].strip()):
        drafts.discard(conv, _author(request))
        return JsonResponse({"saved": False})
    draft = drafts.save(conv, _author(request), **fields)
    if conv.assignee_id is None and conv.mailbox.assign_on_reply:
        # "I'm on it": the others see it taken as soon as someone begins to answer
        actions.claim(conv, user_id=_author(request).pk)
    return JsonResponse({"saved": True, "at": longdate(draft.updated_at)})


@login_required
@require_POST
def discard_draft(request: HttpRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.user, pk)
    drafts.discard(conv, _author(request))
    return redirect("conversation", pk=conv.pk)


@login_required
def forward(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conv = queries.access_conversation(request.user, pk)
    source = queries.access_message(request.user, conv, message_id)
    limit = conv.mailbox.max_message_bytes
    if request.method == "POST":
        form = ForwardForm(request.POST, request.FILES, max_bytes=limit)
        if form.is_valid():
            message = outbox.queue_forward(
                conv, author=_author(request), source=source, text=form.cleaned_data["text"],
                to=form.cleaned_data["to"], cc=form.cleaned_data["cc"],
                with_attachments=form.cleaned_data["with_attachments"],
                attachments=form.files_out(),
            )  # fmt: skip
            return sent_redirect(message)
    else:
        form = ForwardForm(initial={"with_attachments": True}, max_bytes=limit)
    return render(request, "conversations/compose.html", {
        "form": form, "mailbox": conv.mailbox, "conv": conv, "source": source,
        "sender": outbox.sender_for(conv.mailbox, _author(request)),
    }, status=400 if form.errors else 200)  # fmt: skip


@login_required
def new_conversation(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = access_mailbox(request.user, mailbox_id)
    limit = mailbox.max_message_bytes
    if request.method == "POST":
        form = NewConversationForm(request.POST, request.FILES, max_bytes=limit)
        if form.is_valid():
            message = outbox.start_conversation(
                mailbox, author=_author(request), subject=form.cleaned_data["subject"],
                text=form.cleaned_data["text"], to=form.cleaned_data["to"],
                cc=form.cleaned_data["cc"], html=form.cleaned_data["html"],
                attachments=form.files_out(),
            )  # fmt: skip
            return sent_redirect(message)
    else:
        form = NewConversationForm(max_bytes=limit)
    return render(request, "conversations/compose.html", {
        "form": form, "mailbox": mailbox, "conv": None, "source": None,
        "sender": outbox.sender_for(mailbox, _author(request)),
    }, status=400 if form.errors else 200)  # fmt: skip
