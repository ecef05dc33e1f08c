"""Reports (レポート) for managers and admins: a mailbox's (or all their mailboxes')
numbers for a day, week, month or any span of days, for everyone, one agent or one tag,
read from the rollups (``reports.queries``); CSV for Excel and a printable page.

Durations are business minutes of the mailbox's hours (holidays and days off excluded).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from madoguchi.accounts.models import Agent
from madoguchi.accounts.queries import require_reviewer
from madoguchi.conversations.changes import Changes
from madoguchi.conversations.models import Conversation
from madoguchi.core import params
from madoguchi.core.spreadsheet import cell
from madoguchi.mailboxes.queries import assignable_in, visible_mailboxes
from madoguchi.reports import queries
from madoguchi.reports.models import Metric
from madoguchi.web.current import AgentRequest, agent_required

WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Tokyo")


def _day(request: AgentRequest, name: str) -> date | None:
    raw = params.get_text(request, name, max_length=10).strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise params.BadParameter(name, "not a date") from None


def _choice(request: AgentRequest) -> dict[str, Any]:
    """What the page was asked for: the mailboxes, the period, the agent or tag."""
    agent = require_reviewer(request.agent)
    boxes = list(visible_mailboxes(agent).order_by("address"))
    chosen = params.get_id(request, "mailbox")
    selected = [b for b in boxes if b.pk == chosen] if chosen else boxes
    if chosen and not selected:
        raise params.BadParameter("mailbox", "not one of yours")
    zone = _zone(selected[0].time_zone if len(selected) == 1 else agent.time_zone)
    kind = params.get_choice(request, "period", queries.PERIODS, default="month")
    today = timezone.now().astimezone(zone).date()
    period = queries.period_for(kind, today, zone, _day(request, "start"), _day(request, "end"))
    members = list(
        Agent.objects.filter(user__memberships__mailbox__in=selected)
        .select_related("user").distinct()
    )  # fmt: skip
    people = {a.user_id: a.name or a.user.username for a in members}
    usernames = {a.user_id: a.user.username for a in members}
    who = params.get_id(request, "agent") or 0
    if who and who not in people:
        raise params.BadParameter("agent", "not an agent of these mailboxes")
    tag = params.get_text(request, "tag", max_length=64).strip()
    kept = {k: request.GET[k] for k in ("mailbox",) if request.GET.get(k)}
    return {"boxes": boxes, "selected": selected, "ids": [b.pk for b in selected],
            "period": period, "kind": kind, "agent": who, "tag": tag, "people": people,
            "usernames": usernames, "query_string": urlencode(kept)}  # fmt: skip


@agent_required
def report(request: AgentRequest) -> HttpResponse:
    c = _choice(request)
    ids, period, who, tag = c["ids"], c["period"], c["agent"], c["tag"]
    totals = queries.totals(ids, period, agent=who, tag=tag)
    first = queries.times(ids, period, Metric.FIRST_RESPONSE, agent=who, tag=tag)
    resolution = queries.times(ids, period, Metric.RESOLUTION, agent=who, tag=tag)
    daily = queries.daily(ids, period, agent=who, tag=tag)
    heat = queries.heatmap(ids, period)
    top = max((n for row in heat for n in row), default=0)
    agents = queries.per_agent(ids, period)
    backlog = queries.backlog(ids)
    series = (("conversations", _("New conversations")), ("replied", _("Replies")),
              ("closed", _("Closed")))  # fmt: skip
    chart = {
        "labels": [day.strftime("%m/%d") for day, _row in daily],
        "series": [{"label": label, "data": [row[name] for _day, row in daily]}
                   for name, label in series],
        "backlog": {"labels": [label for label, _n in backlog], "data": [n for _l, n in backlog]},
    }  # fmt: skip
    return render(request, "reports/report.html", {
        **c, "totals": totals, "first": first, "resolution": resolution,
        "chart_json": json.dumps(chart, ensure_ascii=False),
        "heat": [(WEEKDAYS[i], [(n, _level(n, top)) for n in row]) for i, row in enumerate(heat)],
        "hours": range(24), "backlog": backlog,
        "agents": sorted(((c["people"].get(uid, f"#{uid}"), row) for uid, row in agents.items()),
                         key=lambda item: -item[1]["replied"]),
        "tags": sorted(queries.per_tag(ids, period).items(), key=lambda item: -item[1]["tagged"]),
        "templates": queries.template_usage(ids, period),
        "query": request.GET.urlencode(),
    })  # fmt: skip


def _level(n: int, top: int) -> int:
    """The heat map cell's shade, 0 (none) to 5 (the busiest hour)."""
    return 0 if not n or not top else max(1, round(5 * n / top))


@agent_required
def export(request: AgentRequest) -> HttpResponse:
    """The period by day, then by agent, as CSV that Excel opens (UTF-8 with its mark)."""
    c = _choice(request)
    ids, period = c["ids"], c["period"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = ("conversations", "messages_in", "replied", "closed", "reopened", "notes",
             "breaches", "first_responses", "first_response_minutes", "resolutions",
             "resolution_minutes")  # fmt: skip
    writer.writerow(["date", *names])
    for day, row in queries.daily(ids, period, agent=c["agent"], tag=c["tag"]):
        writer.writerow([day.isoformat(), *(row[n] for n in names)])
    writer.writerow([])
    writer.writerow(["agent", *names])
    for uid, row in queries.per_agent(ids, period).items():
        writer.writerow([cell(c["people"].get(uid, f"#{uid}")), *(row[n] for n in names)])
    response = HttpResponse(out.getvalue().encode("utf-8-sig"),
                            content_type="text/csv; charset=utf-8")  # fmt: skip
    name = f"report-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the workload now (the seeds' manager view) ------------------------------------------

#: The most conversations one click moves.
MAX_MOVE = 500


@agent_required
def workload(request: AgentRequest) -> HttpResponse:
    """Who has how many open, waiting and overdue conversations now; live (the page's
    script asks again for the table after each event) and with a click to hand one
    person's open conversations to another."""
    c = _choice(request)
    loads = queries.workload(c["ids"])
    names, usernames = c["people"], c["usernames"]
    rows = [(load, names.get(load.agent, _("Unassigned") if not load.agent else f"#{load.agent}"),
             usernames.get(load.agent, "")) for load in loads]  # fmt: skip
    template = (
        "reports/_workload.html" if request.headers.get("X-Live") else "reports/workload.html"
    )
    return render(request, template, {**c, "rows": rows, "query": request.GET.urlencode()})


@require_POST
@agent_required
def reassign(request: AgentRequest) -> HttpResponse:
    c = _choice(request)
    source = params.get_id(request, "from", post=True)
    target = params.get_id(request, "to", post=True)
    if target is None or target not in c["people"] or target == source:
        messages.error(request, _("Choose someone from the list."))
        return redirect(f"{reverse('workload')}?{c['query_string']}")
    convs = Conversation.objects.filter(mailbox_id__in=c["ids"], status__in=queries.OPEN,
                                        kind="normal")  # fmt: skip
    convs = convs.filter(assignee_id=source) if source else convs.filter(assignee__isnull=True)
    allowed = assignable_in(set(c["ids"]), target)
    changes = Changes()
    moved = 0
    for conv in convs.order_by("pk")[:MAX_MOVE]:
        if conv.mailbox_id in allowed:
            changes.assign(conv, target, actor_id=request.agent.user_id)
            moved += 1
    changes.save()
    messages.success(request, ngettext("Moved %(n)d conversation to %(name)s.",
                                       "Moved %(n)d conversations to %(name)s.", moved)
                     % {"n": moved, "name": c["people"][target]})  # fmt: skip
    return redirect(f"{reverse('workload')}?{c['query_string']}")
