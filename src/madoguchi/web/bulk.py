"""Bulk changes from the inbox list: assign, status and tag many conversations at once.

Each conversation is checked on its own: ids the user may not see are skipped as if they
did not exist, and an assignee who may not take a conversation's mailbox (the one rule,
``mailboxes.queries.assignable_in``) is refused for that conversation only. Every change
goes through the same actions as on one conversation, so each writes its own Events.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from madoguchi.conversations.changes import Changes
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core import params
from madoguchi.mailboxes.queries import assignable_in, visible_mailboxes
from madoguchi.web.conversation_forms import BulkForm
from madoguchi.web.current import AgentRequest, agent_required


@agent_required
@require_POST
def bulk(request: AgentRequest) -> HttpResponse:
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    if not safe or not back.startswith("/"):  # redirect("inf") would look "inf" up as a view
        back = "/"
    if not all(params.parse_id(v) for v in request.POST.getlist("ids")):  # the form takes "²"
        messages.error(request, _("Choose conversations from the list."))
        return redirect(back)
    form = BulkForm(request.POST, statuses=list(Status.values))
    if form.is_valid() and not _known_choice(form.cleaned_data["assignee"]):
        form.add_error("assignee", _("Choose someone from the list."))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    data = form.cleaned_data
    user_id = request.agent.user_id
    convs = list(
        Conversation.objects.filter(
            pk__in=data["ids"], mailbox__in=visible_mailboxes(request.agent)
        )
    )
    changed, refused = 0, 0
    assign, assignee = _assignee(data["assignee"], user_id)
    # "nobody" fits everywhere; anyone else (me too) by the one rule, ``assignable_in``
    boxes = {conv.mailbox_id for conv in convs}
    allowed = boxes if assignee is None else assignable_in(boxes, assignee)
    changes = Changes()  # written together: a few queries however many were chosen
    for conv in convs:
        if assign and conv.mailbox_id not in allowed:
            refused += 1
        elif assign:
            changes.assign(conv, assignee, actor_id=user_id)
        if data["status"]:
            changes.status(conv, Status(data["status"]), actor_id=user_id)
        if data["tag"]:
            changes.tag(conv, data["tag"], actor_id=user_id)
        changed += 1
    changes.save()
    messages.success(
        request,
        ngettext("Changed %(n)d conversation.", "Changed %(n)d conversations.", changed)
        % {"n": changed},
    )
    if refused:
        messages.error(
            request,
            _("%(n)d could not be assigned: that person is not a member of the mailbox.")
            % {"n": refused},
        )
    return redirect(back)


def _known_choice(value: str) -> bool:
    """An assignee the list offers: "", "me", "none" or an id (ASCII digits, in range)."""
    return value in ("", "me", "none") or params.parse_id(value) is not None


def _assignee(value: str, user_id: int) -> tuple[bool, int | None]:
    """(whether to change the assignee, to whom) from the form's "", "me", "none" or an id."""
    if value == "":
        return False, None
    if value == "me":
        return True, user_id
    if value == "none":
        return True, None
    return True, params.parse_id(value)  # None for what only looks like a number ("²")
