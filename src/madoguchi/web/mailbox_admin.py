"""Admin pages for mailboxes: list, add, edit (with "test connection") and members.

"Test connection" runs the check on the settings as typed and stores nothing. The page's
script posts it in the background and shows the answer beside the button that asked
(``admin/_check.html``); without the script the whole page comes back, scrolled to that
section.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from madoguchi.accounts.actions import set_members, set_needs_approval
from madoguchi.accounts.models import Agent
from madoguchi.accounts.queries import require_admin
from madoguchi.mailboxes import actions
from madoguchi.mailboxes.models import Mailbox
from madoguchi.web.connection_check import check_imap, check_smtp
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.mailbox_forms import SECTIONS, MailboxForm


@agent_required
def mailbox_admin(request: AgentRequest) -> HttpResponse:
    require_admin(request.agent)
    mailboxes = list(Mailbox.objects.annotate(members=Count("memberships")).order_by("address"))
    lost = [mb for mb in mailboxes if mb.lost_passwords]
    return render(request, "admin/mailboxes.html", {"mailboxes": mailboxes, "lost": lost})


@agent_required
def mailbox_new(request: AgentRequest) -> HttpResponse:
    return _edit(request, require_admin(request.agent), Mailbox())


@agent_required
def mailbox_edit(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    admin = require_admin(request.agent)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise Http404("no such mailbox")
    return _edit(request, admin, mailbox)


def _edit(request: HttpRequest, admin: Agent, mailbox: Mailbox) -> HttpResponse:
    form = MailboxForm(request.POST or None, instance=mailbox)
    checks: dict[str, object] = {}
    test = request.POST.get("test") if request.method == "POST" else None
    if request.method == "POST" and form.is_valid():
        if test in ("imap", "smtp"):  # try the settings as typed, store nothing
            check = check_imap if test == "imap" else check_smtp
            checks[test] = check(form.trial(), timeout=10)
            if request.headers.get("X-Fragment") == "check":
                return render(request, "admin/_check.html", {"key": test, "check": checks[test]})
        else:
            saved = _save(form, mailbox, actor_id=admin.user_id)
            messages.success(request, _("Saved."))
            return redirect("mailbox_edit", mailbox_id=saved.pk)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "admin/mailbox_edit.html", {
        "form": form, "edited": mailbox if mailbox.pk else None,
        "sections": [(key, legend, [form[name] for name in names])
                     for key, legend, names in SECTIONS],
        "checks": checks,
    }, status=status)  # fmt: skip


def _save(form: MailboxForm, mailbox: Mailbox, *, actor_id: int) -> Mailbox:
    with transaction.atomic():
        if mailbox.pk:
            saved = actions.update_mailbox(mailbox, actor_id=actor_id, **form.settings())
        else:
            saved = actions.create_mailbox(
                form.cleaned_data["address"], actor_id=actor_id, **form.settings()
            )
        set_members(saved, list(form.cleaned_data["members"]), actor_id=actor_id)
        set_needs_approval(saved, list(form.cleaned_data["approval_members"]), actor_id=actor_id)
    return saved
