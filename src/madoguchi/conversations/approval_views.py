"""The approval queue: managers read replies that wait, then approve, edit, or send back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts.queries import require_reviewer, visible_mailboxes
from madoguchi.conversations.models import Message
from madoguchi.conversations.views import rail
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out.models import OutboxStatus


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("return", "return")])
    text = forms.CharField(label=gettext_lazy("Reply"), widget=forms.Textarea, max_length=200_000)
    comment = forms.CharField(
        label=gettext_lazy("Comment for the author"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=20_000,
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("decision") == "return" and not str(data.get("comment", "")).strip():
            self.add_error("comment", _("Say what to change, so the author knows."))
        return data


def waiting(user: User) -> list[Message]:
    return list(
        Message.objects.filter(
            outbox__status=OutboxStatus.AWAITING, mailbox__in=visible_mailboxes(user)
        )
        .select_related("conversation", "mailbox", "author__agent")
        .order_by("pk")[:200]
    )


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    require_reviewer(request.user)
    return _page(request, {})


def _page(
    request: HttpRequest, forms_by_id: dict[int, ReviewForm], status: int = 200
) -> HttpResponse:
    assert isinstance(request.user, User)
    items = [
        (m, forms_by_id.get(m.pk) or ReviewForm(initial={"text": m.text}))
        for m in waiting(request.user)
    ]
    return render(request, "conversations/approvals.html", {**rail(request), "items": items},
                  status=status)  # fmt: skip


@login_required
@require_POST
def review(request: HttpRequest, message_id: int) -> HttpResponse:
    require_reviewer(request.user)
    assert isinstance(request.user, User)
    message = (
        Message.objects.filter(pk=message_id, mailbox__in=visible_mailboxes(request.user))
        .select_related("conversation__mailbox")
        .first()
    )
    if message is None:
        raise Http404("no such reply")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _page(request, {message.pk: form}, status=400)
    if form.cleaned_data["decision"] == "approve":
        done = outbox.approve(message, reviewer=request.user, text=form.cleaned_data["text"])
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
