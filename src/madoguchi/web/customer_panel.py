"""The customer panel of a conversation: the mailbox's links (in the page) and its
information source (``/c/<id>/customer-info``, asked by the page's script after it has
loaded); and the mailbox's settings for both (managers and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from madoguchi.accounts.models import Role
from madoguchi.conversations.queries import access_conversation
from madoguchi.core import params
from madoguchi.customers import actions, panel
from madoguchi.mailboxes.queries import access_mailbox
from madoguchi.web.current import AgentRequest, agent_required

MAX_LINKS_TEXT = 30_000


@agent_required
def customer_info(request: AgentRequest, pk: int) -> HttpResponse:
    conv = access_conversation(request.agent, pk)
    info = panel.info_for(conv)
    return render(request, "customers/_info.html", {"info": info, "reason": _reason(info)})


def _reason(info: panel.Info) -> str:
    if not info.error:
        return ""
    return {
        "none": "",
        "missing": _(
            "This conversation lacks what the source needs (an address, an order number)."
        ),
        "timeout": _("The customer information source did not answer in time."),
        "http": _("The customer information source answered with an error (HTTP %(detail)s)."),
        "network": _("The customer information source cannot be reached."),
        "json": _("The customer information source did not answer with JSON."),
        "large": _("The customer information source answered with too much data."),
        "blocked": _("The customer information source is at an address Madoguchi does not ask."),
    }.get(info.error, _("The customer information source failed.")) % {"detail": info.detail}


def _panel_error(bad: actions.BadPanel) -> str:
    sentences = {
        "link": _("A link needs a label and an http(s) URL with known placeholders: %(detail)s"),
        "pattern": _("The order number pattern is not a regular expression: %(detail)s"),
        "source": _("The source needs an http(s) URL with known placeholders: %(detail)s"),
    }
    return sentences[bad.code] % {"detail": bad.detail}


def _parse_links(text: str) -> list[tuple[str, str]]:
    """One link per line: ``label | URL``."""
    links = []
    for line in text.splitlines():
        if line.strip():
            label, _sep, url = line.partition("|")
            links.append((label.strip(), url.strip()))
    return links


@agent_required
def panel_settings(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """Admins only: the source is a request Madoguchi's server makes, with a secret."""
    if request.agent.role != Role.ADMIN:
        raise PermissionDenied("admins only")
    mailbox = access_mailbox(request.agent, mailbox_id)
    current = panel.panel_of(mailbox.pk)
    if request.method == "POST":
        secret = params.get_text(request, "source_secret", max_length=2000, post=True)
        clear = request.POST.get("clear_secret") == "1"
        try:
            actions.save_panel(
                mailbox.pk, actor_id=request.agent.user_id,
                links=_parse_links(params.get_text(request, "links", max_length=MAX_LINKS_TEXT,
                                                   post=True)),
                order_pattern=params.get_text(request, "order_pattern", max_length=200, post=True),
                source_url=params.get_text(request, "source_url", max_length=1000, post=True),
                source_header=params.get_text(request, "source_header", max_length=100,
                                              post=True),
                source_secret="" if clear else (secret or None),
                timeout_ms=params.get_id(request, "timeout_ms", post=True) or 3000,
                cache_seconds=params.get_id(request, "cache_seconds", post=True) or 0,
            )  # fmt: skip
        except actions.BadPanel as bad:
            messages.error(request, _panel_error(bad))
        else:
            messages.success(request, _("Saved."))
        return redirect("customer_panel_settings", mailbox.pk)
    links = "\n".join(
        f"{link['label']} | {link['url']}" for link in (current.links if current else [])
    )
    return render(request, "customers/panel_settings.html", {
        "mailbox": mailbox, "panel": current, "links_text": links,
        "has_secret": bool(current and current.source_secret),
    })  # fmt: skip
