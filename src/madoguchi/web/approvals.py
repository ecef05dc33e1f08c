"""The approval queue: managers read replies that wait, then approve, edit, or send back.

Each reply is shown as it will leave, read back from the stored bytes (From, To, Cc, Bcc,
subject, files, text and the HTML with every link's address written out), beside the
customer's mail it answers. The form carries the digest of those bytes: if the stored mail
changed after the page was drawn, approving is refused and the page shows the new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts.models import Agent
from madoguchi.accounts.queries import require_reviewer
from madoguchi.conversations.models import Direction, Message
from madoguchi.mail import ParsedMail, parse
from madoguchi.mail.rich import show_link_targets
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out.models import Outbox, OutboxStatus
from madoguchi.mailboxes.queries import visible_mailboxes
from madoguchi.web.current import AgentRequest, agent_required

#: The rendered HTML reply, inside ``<iframe sandbox srcdoc>`` (no scripts, own origin).
_FRAME = (
    '<!doctype html><html><head><meta charset="utf-8"><base target="_blank"></head>'
    "<body>{}</body></html>"
)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("return", "return")])
    text = forms.CharField(label=gettext_lazy("Reply"), widget=forms.Textarea, max_length=200_000)
    comment = forms.CharField(
        label=gettext_lazy("Comment for the author"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=20_000,
    )
    #: ``outbox.digest_of`` the mail the reviewer was shown
    shown = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("decision") == "return" and not str(data.get("comment", "")).strip():
            self.add_error("comment", _("Say what to change, so the author knows."))
        if data.get("decision") == "approve" and not data.get("shown"):
            raise forms.ValidationError(_("Reload the page and read the reply before approving."))
        return data


@dataclass
class Review:
    """One waiting reply as the reviewer sees it: exactly what leaves, and what it answers."""

    message: Message
    form: ReviewForm
    mail: ParsedMail  # read back from the stored bytes
    bcc: list[str]  # envelope recipients named in neither To nor Cc
    frame: str  # the HTML part as a sandboxed document ('' for a plain-text reply)
    answers: Message | None
    digest: str


#: Replies shown at once, oldest first: each is parsed from its stored bytes (up to the
#: mailbox's size limit), so the page's work stays bounded however long the queue grows.
PAGE = 20


def waiting(agent: Agent) -> QuerySet[Message]:
    return (
        Message.objects.filter(
            outbox__status=OutboxStatus.AWAITING, mailbox__in=visible_mailboxes(agent)
        )
        .select_related("conversation", "mailbox", "author__agent", "outbox")
        .order_by("pk")
    )


def answered(message: Message) -> Message | None:
    """The customer's mail a reply answers: the one it names, else the newest before it."""
    inbound = message.conversation.messages.filter(direction=Direction.IN)
    named = (
        inbound.filter(message_id=message.in_reply_to).order_by("-pk").first()
        if message.in_reply_to
        else None
    )
    return named or inbound.filter(pk__lt=message.pk).order_by("-pk").first()


def _review(message: Message, form: ReviewForm | None) -> Review:
    box: Outbox = message.outbox
    mail = parse(bytes(box.data))
    named = {a.email.lower() for a in [*mail.to, *mail.cc]}
    digest = outbox.digest_of(box)
    form = form or ReviewForm(initial={"text": message.text, "shown": digest})
    return Review(
        message=message,
        form=form,
        mail=mail,
        bcc=[r for r in box.recipients if r.lower() not in named],
        frame=_FRAME.format(show_link_targets(mail.html)) if mail.html else "",
        answers=answered(message),
        digest=digest,
    )


@agent_required
def approvals(request: AgentRequest) -> HttpResponse:
    require_reviewer(request.agent)
    return _page(request, {})


def _page(
    request: AgentRequest, forms_by_id: dict[int, ReviewForm], status: int = 200
) -> HttpResponse:
    queue = waiting(request.agent)
    items = [_review(m, forms_by_id.get(m.pk)) for m in queue[:PAGE]]
    more = max(queue.count() - PAGE, 0) if len(items) == PAGE else 0
    return render(request, "conversations/approvals.html", {
        "items": items, "more": more,
    }, status=status)  # fmt: skip


@agent_required
@require_POST
def review(request: AgentRequest, message_id: int) -> HttpResponse:
    require_reviewer(request.agent)
    message = (
        Message.objects.filter(pk=message_id, mailbox__in=visible_mailboxes(request.agent))
        .select_related("conversation__mailbox")
        .first()
    )
    if message is None:
        raise Http404("no such reply")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _page(request, {message.pk: form}, status=400)
    if form.cleaned_data["decision"] == "approve":
        result = outbox.approve(
            message, reviewer=request.user, text=form.cleaned_data["text"],
            shown=form.cleaned_data["shown"],
        )  # fmt: skip
        if result == outbox.Approval.CHANGED:
            messages.error(request, _("This reply changed after the page was shown. Nothing was "
                                      "sent: read it again as it is now."))  # fmt: skip
            return _page(request, {}, status=409)
        done = result == outbox.Approval.APPROVED
        note = _("Approved: the reply is on its way.")
    else:
        done = outbox.send_back(
            message, reviewer=request.user, comment=form.cleaned_data["comment"]
        )
        note = _("Sent back to its author with your comment.")
    if done:
        messages.success(request, note)
    else:
        messages.warning(request, _("That reply no longer waits for approval."))
    return redirect("approvals")
