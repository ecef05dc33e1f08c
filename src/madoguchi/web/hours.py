"""A mailbox's business hours and days off, its SLA targets and its acknowledgement.

For managers and admins of mailboxes they may see (``require_reviewer``, then
``access_mailbox``: 403 for agents, 404 for a mailbox not theirs). Bad input comes back
as the form with its errors (400), never as a server error; the pages work without script.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.queries import require_reviewer
from madoguchi.automation import settings
from madoguchi.core import params
from madoguchi.core.business_time import Closure
from madoguchi.mailboxes import hours_actions
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import DayOff, Mailbox
from madoguchi.mailboxes.queries import access_mailbox
from madoguchi.reply_templates.queries import usable
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.hours_forms import AutoReplyForm, DayOffForm, HoursForm, SlaForm

#: How many coming holidays and days off the hours page lists.
PREVIEW = 12


def _mailbox(request: AgentRequest, mailbox_id: int) -> Mailbox:
    require_reviewer(request.agent)
    return access_mailbox(request.agent, mailbox_id)


@agent_required
def mailbox_hours(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """The weekly hours, time zone and holidays; POST saves them."""
    mailbox = _mailbox(request, mailbox_id)
    form = HoursForm(request.POST or None, initial=HoursForm.initial_for(mailbox))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hours_actions.set_hours(
                mailbox, time_zone=data["time_zone"], weekly=data["weekly"],
                holiday_country=data["holiday_country"], actor_id=request.agent.user_id,
            )  # fmt: skip
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("mailbox_hours", mailbox_id=mailbox.pk)
    return _hours_page(request, mailbox, form=form)


@agent_required
@require_POST
def day_off_add(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    form = DayOffForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            hours_actions.add_day_off(
                mailbox, name=data["name"], start=data["start"], end=data["end"],
                yearly=data["yearly"], actor_id=request.agent.user_id,
            )  # fmt: skip
        except ValidationError:
            form.add_error("name", _("This day off is listed already."))
        else:
            messages.success(request, _("Day off added."))
            return redirect("mailbox_hours", mailbox_id=mailbox.pk)
    return _hours_page(request, mailbox, day_off=form)


@agent_required
@require_POST
def day_off_preset(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """年末年始 or お盆 in one click, every year."""
    mailbox = _mailbox(request, mailbox_id)
    key = params.get_choice(request, "preset", hours_actions.PRESETS, default="new_year", post=True)
    year = timezone.localdate().year
    try:
        hours_actions.add_preset(mailbox, key, year=year, actor_id=request.agent.user_id)
    except ValidationError:
        messages.info(request, _("This day off is listed already."))
    else:
        messages.success(request, _("Day off added."))
    return redirect("mailbox_hours", mailbox_id=mailbox.pk)


@agent_required
@require_POST
def day_off_remove(request: AgentRequest, mailbox_id: int, day_off_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    if not hours_actions.remove_day_off(mailbox, day_off_id, actor_id=request.agent.user_id):
        raise Http404("no such day off")
    messages.success(request, _("Day off removed."))
    return redirect("mailbox_hours", mailbox_id=mailbox.pk)


def _hours_page(
    request: AgentRequest,
    mailbox: Mailbox,
    *,
    form: HoursForm | None = None,
    day_off: DayOffForm | None = None,
) -> HttpResponse:
    failed = (form is not None and bool(form.errors)) or day_off is not None
    calendar = calendar_for(mailbox)
    now = timezone.now()
    local = now.astimezone(calendar.zone)
    context = {
        "edited": mailbox,
        "form": form or HoursForm(initial=HoursForm.initial_for(mailbox)),
        "day_off": day_off or DayOffForm(),
        "days_off": DayOff.objects.filter(mailbox=mailbox).order_by("start", "pk"),
        "presets": hours_actions.PRESETS,
        "closures": runs(calendar.closures(local.date(), limit=PREVIEW * 3))[:PREVIEW],
        "open_now": calendar.is_open(now),
        "next_open": calendar.next_open(now),
        "local_now": local,
    }
    return render(request, "hours/hours.html", context, status=400 if failed else 200)


def runs(closures: list[Closure]) -> list[dict[str, Any]]:
    """Closed days in a row with the same name as one entry (年末年始: 12/29–1/3);
    ``costs``: some of them would have been open days."""
    found: list[dict[str, Any]] = []
    for c in closures:
        last = found[-1] if found else None
        if last and last["name"] == c.name and (c.day - last["last"]).days == 1:
            last["last"], last["costs"] = c.day, last["costs"] or c.weekday_open
        else:
            found.append({"first": c.day, "last": c.day, "name": c.name, "costs": c.weekday_open})
    return found


def _add_errors(form: Any, exc: ValidationError) -> None:
    """An action's refusal (should the form have let something through) on the form."""
    fields = getattr(exc, "error_dict", {})
    for name in fields:
        target = name if name in form.fields else None
        form.add_error(target, _("This value cannot be saved."))
    if not fields:
        form.add_error(None, _("This value cannot be saved."))


@agent_required
def mailbox_automation(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """SLA targets (mailbox and per tag) and the acknowledgement; POST ``section`` saves one."""
    mailbox = _mailbox(request, mailbox_id)
    own, tags = settings.sla_targets(mailbox)
    setting = settings.auto_reply_of(mailbox)
    templates = usable(mailbox.pk)
    sla = SlaForm(own=own, tags=tags)
    reply = AutoReplyForm(initial=AutoReplyForm.initial_for(setting), templates=templates)
    if request.method == "POST":
        section = params.get_choice(request, "section", ("sla", "auto_reply"), default="",
                                    post=True)  # fmt: skip
        if section == "sla":
            sla = SlaForm(request.POST, own=own, tags=tags)
            if sla.is_valid() and _save_sla(request, mailbox, sla):
                return redirect("mailbox_automation", mailbox_id=mailbox.pk)
        else:
            reply = AutoReplyForm(request.POST, templates=templates)
            if reply.is_valid() and _save_reply(request, mailbox, reply):
                return redirect("mailbox_automation", mailbox_id=mailbox.pk)
    failed = request.method == "POST"
    return render(request, "hours/automation.html", {
        "edited": mailbox, "sla": sla, "reply": reply, "setting": setting,
        "has_templates": templates.exists(),
    }, status=400 if failed else 200)  # fmt: skip


def _save_sla(request: AgentRequest, mailbox: Mailbox, form: SlaForm) -> bool:
    own, tags = form.targets()
    try:
        settings.save_sla(mailbox, own=own, tags=tags, actor_id=request.agent.user_id)
    except ValidationError as exc:
        _add_errors(form, exc)
        return False
    messages.success(request, _("Saved."))
    return True


def _save_reply(request: AgentRequest, mailbox: Mailbox, form: AutoReplyForm) -> bool:
    data = form.cleaned_data
    template = data["template"]
    try:
        settings.save_auto_reply(
            mailbox, enabled=data["enabled"],
            template_id=template.pk if template is not None else None,
            only_outside_hours=data["only_outside_hours"], quiet_hours=data["quiet_hours"],
            actor_id=request.agent.user_id,
        )  # fmt: skip
    except ValidationError as exc:
        _add_errors(form, exc)
        return False
    messages.success(request, _("Saved."))
    return True
