"""Writing mail other than a reply: forward a message, start a new conversation; and the
draft that the composer saves as the agent types."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from madoguchi.conversations import actions, queries
from madoguchi.conversations.models import Message
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out import drafts, outgoing
from madoguchi.mailboxes.queries import access_mailbox
from madoguchi.reply_templates import actions as template_actions
from madoguchi.web.conversation_forms import ComposeForm, ForwardForm, NewConversationForm
from madoguchi.web.conversations import sent_redirect
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.templatetags.inbox import longdate


@agent_required
@require_POST
def save_draft(request: AgentRequest, pk: int) -> JsonResponse:
    conv = queries.access_conversation(request.agent, pk)
    fields = {name: request.POST.get(name, "") for name in ("to", "cc", "text", "html")}
    if not (fields["text"].strip() or fields["html"].strip()):
        drafts.discard(conv, request.user)
        return JsonResponse({"saved": False})
    draft = drafts.save(conv, request.user, **fields)
    if conv.assignee_id is None and conv.mailbox.assign_on_reply:
        # "I'm on it": the others see it taken as soon as someone begins to answer
        actions.claim(conv, user_id=request.agent.user_id)
    return JsonResponse({"saved": True, "at": longdate(draft.updated_at)})


@agent_required
@require_POST
def discard_draft(request: AgentRequest, pk: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    drafts.discard(conv, request.user)
    return redirect("conversation", pk=conv.pk)


@agent_required
def forward(request: AgentRequest, pk: int, message_id: int) -> HttpResponse:
    conv = queries.access_conversation(request.agent, pk)
    source = queries.access_message(request.agent, conv, message_id)
    limit = conv.mailbox.max_message_bytes
    if request.method == "POST":
        form = ForwardForm(request.POST, request.FILES, max_bytes=limit, mailbox_id=conv.mailbox_id)
        if form.is_valid():
            with transaction.atomic():
                message = outbox.queue_forward(
                    conv, author=request.user, source=source, text=form.cleaned_data["text"],
                    to=form.cleaned_data["to"], cc=form.cleaned_data["cc"],
                    with_attachments=form.cleaned_data["with_attachments"],
                    attachments=form.files_out(),
                )  # fmt: skip
                _count_templates(form, message, request)
            return sent_redirect(message)
    else:
        form = ForwardForm(initial={"with_attachments": True}, max_bytes=limit,
                           mailbox_id=conv.mailbox_id)  # fmt: skip
    return render(request, "conversations/compose.html", {
        "form": form, "mailbox": conv.mailbox, "conv": conv, "source": source,
        "sender": outgoing.sender_for(conv.mailbox, request.user),
    }, status=400 if form.errors else 200)  # fmt: skip


@agent_required
def new_conversation(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    mailbox = access_mailbox(request.agent, mailbox_id)
    limit = mailbox.max_message_bytes
    if request.method == "POST":
        form = NewConversationForm(request.POST, request.FILES, max_bytes=limit,
                                   mailbox_id=mailbox.pk)  # fmt: skip
        if form.is_valid():
            with transaction.atomic():
                message = outbox.start_conversation(
                    mailbox, author=request.user, subject=form.cleaned_data["subject"],
                    text=form.cleaned_data["text"], to=form.cleaned_data["to"],
                    cc=form.cleaned_data["cc"], html=form.cleaned_data["html"],
                    attachments=form.files_out(),
                )  # fmt: skip
                _count_templates(form, message, request)
            return sent_redirect(message)
    else:
        form = NewConversationForm(max_bytes=limit, mailbox_id=mailbox.pk)
    return render(request, "conversations/compose.html", {
        "form": form, "mailbox": mailbox, "conv": None, "source": None,
        "sender": outgoing.sender_for(mailbox, request.user),
    }, status=400 if form.errors else 200)  # fmt: skip


def _count_templates(form: ComposeForm, message: Message, request: AgentRequest) -> None:
    """The templates inserted in the mail just queued are counted as used."""
    if ids := form.cleaned_data["templates"]:
        conv = message.conversation
        template_actions.count_use(ids, conv=conv, actor_id=request.agent.user_id)
