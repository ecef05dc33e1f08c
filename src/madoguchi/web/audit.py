"""The audit log page (/admin/audit/): admins only, newest first, filtered, in pages."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import AuditAction, AuditEntry
from madoguchi.accounts.queries import require_admin
from madoguchi.web.current import AgentRequest, agent_required

PAGE = 50


class AuditFilter(forms.Form):
    action = forms.ChoiceField(
        label=_("What"), required=False, choices=[("", _("Everything")), *AuditAction.choices]
    )
    actor = forms.CharField(label=_("Who (user name)"), required=False, max_length=150)
    since = forms.DateField(label=_("Start date"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    until = forms.DateField(label=_("End date"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    before = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end is before the start."))
        return data


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def entries(filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    """Entries matching ``filters`` (cleaned ``AuditFilter`` data), newest first."""
    rows = AuditEntry.objects.order_by("-id")
    if filters.get("action"):
        rows = rows.filter(action=filters["action"])
    if filters.get("actor"):
        rows = rows.filter(actor_name=filters["actor"].strip())
    if filters.get("since"):
        rows = rows.filter(at__gte=_day_start(filters["since"]))
    if filters.get("until"):
        rows = rows.filter(at__lt=_day_start(filters["until"] + timedelta(days=1)))
    if filters.get("before"):
        rows = rows.filter(id__lt=filters["before"])
    return rows


@agent_required
def audit_log(request: AgentRequest) -> HttpResponse:
    require_admin(request.agent)
    form = AuditFilter(request.GET or None)
    if request.GET and not form.is_valid():
        context = {"form": form, "rows": [], "older": ""}
        return render(request, "accounts/audit.html", context, status=400)
    filters = form.cleaned_data if request.GET else {}
    rows = list(entries(filters)[: PAGE + 1])
    older = ""
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        keep = {k: v for k, v in request.GET.items() if k != "before" and v}
        older = "?" + urlencode({**keep, "before": rows[-1].pk})
    for row in rows:
        row.details_text = json.dumps(row.details, ensure_ascii=False, sort_keys=True)  # type: ignore[attr-defined]
    context = {"form": form, "rows": rows, "older": older,
               "newest": bool(filters.get("before"))}  # fmt: skip
    return render(request, "accounts/audit.html", context)
