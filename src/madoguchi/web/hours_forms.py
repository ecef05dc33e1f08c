"""Forms of a mailbox's business hours, days off, SLA targets and acknowledgement.

Weekly hours are typed one line per weekday ("09:00-12:00, 13:00-18:00"; empty: closed),
so the page needs no script. Every value is checked here, with messages in the reader's
language; the actions check again (``mailboxes.hours_actions``, ``automation.settings``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from holidays.registry import COUNTRIES

from madoguchi.automation.models import AutoReply
from madoguchi.automation.settings import MAX_QUIET_HOURS
from madoguchi.automation.sla import Targets
from madoguchi.conversations.models import Tag
from madoguchi.core.business_time import DAYS, countries
from madoguchi.core.params import parse_id
from madoguchi.mailboxes.hours_actions import MAX_DAY_OFF_DAYS, time_zones
from madoguchi.mailboxes.models import Mailbox
from madoguchi.reply_templates.models import Template

WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
_SPAN = re.compile(r"([0-9]{1,2}(?::[0-9]{2})?)\s*[-~〜–—]\s*([0-9]{1,2}(?::[0-9]{2})?)")
_SEPARATORS = re.compile(r"[,、;]")
#: The longest target typed in hours.
MAX_HOURS = 366 * 24


def _minutes(text: str) -> int | None:
    hours, _, minutes = text.partition(":")
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return 24 * 60
    return h * 60 + m if h < 24 and m < 60 else None


def parse_spans(text: str, label: object) -> list[list[str]]:
    """``"09:00-12:00, 13:00-18:00"`` as ``[["09:00", "12:00"], ["13:00", "18:00"]]``
    (full-width digits and 〜 accepted); ``ValidationError`` saying what is wrong."""
    spans: list[tuple[int, int]] = []
    for piece in _SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        if not piece.strip():
            continue
        found = _SPAN.fullmatch(piece.strip())
        start, end = (_minutes(found.group(1)), _minutes(found.group(2))) if found else (None, None)
        if start is None or end is None:
            raise ValidationError(
                _("%(day)s: write the hours as 09:00-18:00, several spans separated by commas."),
                params={"day": label},
            )
        if end <= start:
            raise ValidationError(
                _("%(day)s: %(span)s ends before it starts."), params={"day": label, "span": piece}
            )
        spans.append((start, end))
    spans.sort()
    for (_a, end), (start, _b) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ValidationError(_("%(day)s: the spans overlap."), params={"day": label})
    return [[_clock(a), _clock(b)] for a, b in spans]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def spans_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans)


def country_choices() -> list[tuple[str, str]]:
    """No holidays, Japan, then every other country the ``holidays`` package knows."""
    names = {code: name for name, code, *_rest in COUNTRIES.values()}
    known = [c for c in countries() if c != "JP"]
    others = sorted(((c, f"{names.get(c, c)} ({c})") for c in known), key=lambda x: x[1])
    return [("", str(_("None"))), ("JP", f"{_('Japan')} (JP)"), *others]


class HoursForm(forms.Form):
    """The time zone, whose holidays close the mailbox, and the hours of each weekday."""

    time_zone = forms.ChoiceField(label=_("Time zone"))
    holiday_country = forms.ChoiceField(
        label=_("Public holidays of"),
        required=False,
        help_text=_("The mailbox is closed on that country's public holidays."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone: Any = self.fields["time_zone"]
        zone.choices = [(z, z) for z in sorted(time_zones())]
        country: Any = self.fields["holiday_country"]
        country.choices = country_choices()
        for day in DAYS:
            self.fields[day] = forms.CharField(
                label=WEEKDAY_LABELS[day], required=False, max_length=200,
                widget=forms.TextInput(attrs={"placeholder": _("closed"), "size": 28}),
            )  # fmt: skip

    @classmethod
    def initial_for(cls, mailbox: Mailbox) -> dict[str, Any]:
        hours = mailbox.business_hours if isinstance(mailbox.business_hours, dict) else {}
        initial: dict[str, Any] = {
            "time_zone": mailbox.time_zone,
            "holiday_country": mailbox.holiday_country,
        }
        for day in DAYS:
            spans = hours.get(day) or []
            initial[day] = spans_text(spans) if isinstance(spans, list) else ""
        return initial

    def day_fields(self) -> list[forms.BoundField]:
        return [self[day] for day in DAYS]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        weekly = {}
        for day in DAYS:
            if day in self.errors:
                continue
            try:
                spans = parse_spans(data.get(day) or "", WEEKDAY_LABELS[day])
            except ValidationError as exc:
                self.add_error(day, exc)
                continue
            if spans:
                weekly[day] = spans
        data["weekly"] = weekly
        return data


class DayOffForm(forms.Form):
    """One day off, or several days in a row, once or every year."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 社員旅行")}),
    )
    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=_("Last day"),
        required=False,
        help_text=_("Empty: just the first day."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    yearly = forms.BooleanField(label=_("Every year on these dates"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date):
            end = data["end"] = end or start
            longest = 365 if data.get("yearly") else MAX_DAY_OFF_DAYS
            if end < start:
                self.add_error("end", _("The last day comes before the first."))
            elif (end - start).days >= longest:
                self.add_error("end", _("A day off lasts less than a year."))
        if name := data.get("name"):
            data["name"] = " ".join(name.split())
        return data


class IdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """``ModelChoiceField`` that refuses what is not an id before asking the database."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and parse_id(str(value)) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


def _duration(prefix: str, label: Any) -> dict[str, forms.Field]:
    return {
        f"{prefix}_hours": forms.IntegerField(
            label=label, required=False, min_value=0, max_value=MAX_HOURS,
            widget=forms.NumberInput(attrs={"size": 5, "class": "hours"}),
        ),
        f"{prefix}_minutes": forms.IntegerField(
            label=label, required=False, min_value=0, max_value=59,
            widget=forms.NumberInput(attrs={"size": 3, "class": "minutes"}),
        ),
    }  # fmt: skip


class SlaForm(forms.Form):
    """The mailbox's targets, each tag's, and one more tag's to add; hours and minutes of
    business time (both empty or 0: no such target)."""

    KINDS = (("first", _("First response")), ("resolution", _("Resolution")))

    def __init__(self, *args: Any, own: Targets, tags: dict[int, Targets], **kwargs: Any) -> None:
        self.tag_ids = sorted(tags)
        self.tag_names = dict(Tag.objects.filter(pk__in=self.tag_ids).values_list("pk", "name"))
        kwargs.setdefault("initial", _initial(own, tags))
        super().__init__(*args, **kwargs)
        for key, label in self.KINDS:
            self.fields.update(_duration(f"own_{key}", label))
        for tag_id in self.tag_ids:
            for key, label in self.KINDS:
                self.fields.update(_duration(f"tag{tag_id}_{key}", label))
            self.fields[f"tag{tag_id}_remove"] = forms.BooleanField(
                label=_("Remove"), required=False
            )
        self.fields["new_tag"] = IdChoiceField(
            queryset=Tag.objects.exclude(pk__in=self.tag_ids).order_by("name"),
            required=False, label=_("Tag"), empty_label=_("(choose a tag)"),
        )  # fmt: skip
        for key, label in self.KINDS:
            self.fields.update(_duration(f"new_{key}", label))

    def rows(self) -> list[dict[str, Any]]:
        """The tag rows for the template: name and the bound fields."""
        return [
            {"name": self.tag_names.get(t, "?"), "first": self._pair(f"tag{t}_first"),
             "resolution": self._pair(f"tag{t}_resolution"), "remove": self[f"tag{t}_remove"]}
            for t in self.tag_ids
        ]  # fmt: skip

    def own(self) -> dict[str, Any]:
        return {"first": self._pair("own_first"), "resolution": self._pair("own_resolution")}

    def new(self) -> dict[str, Any]:
        return {"tag": self["new_tag"], "first": self._pair("new_first"),
                "resolution": self._pair("new_resolution")}  # fmt: skip

    def _pair(self, prefix: str) -> tuple[forms.BoundField, forms.BoundField]:
        return self[f"{prefix}_hours"], self[f"{prefix}_minutes"]

    def targets(self) -> tuple[Targets, dict[int, Targets]]:
        """What was typed, as targets (after ``is_valid``)."""
        data = self.cleaned_data
        own = self._targets("own")
        tags = {t: self._targets(f"tag{t}") for t in self.tag_ids if not data.get(f"tag{t}_remove")}
        new_tag = data.get("new_tag")
        if new_tag is not None:
            tags[new_tag.pk] = self._targets("new")
        return own, tags

    def _targets(self, prefix: str) -> Targets:
        return Targets(self._value(f"{prefix}_first"), self._value(f"{prefix}_resolution"))

    def _value(self, prefix: str) -> int | None:
        total = (self.cleaned_data.get(f"{prefix}_hours") or 0) * 60 + (
            self.cleaned_data.get(f"{prefix}_minutes") or 0
        )
        return total or None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("new_tag") is not None and not self._targets("new").any:
            self.add_error("new_tag", _("Give the tag a first-response or resolution target."))
        return data


def _initial(own: Targets, tags: dict[int, Targets]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for prefix, targets in [("own", own), *((f"tag{t}", v) for t, v in tags.items())]:
        for key, value in (("first", targets.first_response), ("resolution", targets.resolution)):
            if value:
                initial[f"{prefix}_{key}_hours"] = value // 60
                initial[f"{prefix}_{key}_minutes"] = value % 60
    return initial


class AutoReplyForm(forms.Form):
    """The acknowledgement (受付自動返信) of new conversations."""

    enabled = forms.BooleanField(label=_("Acknowledge new conversations"), required=False)
    template = IdChoiceField(
        queryset=Template.objects.none(), required=False, label=_("Template"),
        empty_label=_("(choose a template)"),
    )  # fmt: skip
    only_outside_hours = forms.BooleanField(
        label=_("Only outside business hours"), required=False,
        help_text=_("Mail that comes while the mailbox is open gets no acknowledgement."),
    )  # fmt: skip
    quiet_hours = forms.IntegerField(
        label=_("At most one automatic reply per sender within (hours)"),
        min_value=0, max_value=MAX_QUIET_HOURS,
        help_text=_("A sender who got an automatic reply this recently gets none: two "
                    "auto-responders stop after one reply each."),
    )  # fmt: skip

    def __init__(self, *args: Any, templates: QuerySet[Template], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["template"]
        field.queryset = templates

    @staticmethod
    def initial_for(setting: AutoReply) -> dict[str, Any]:
        return {
            "enabled": setting.enabled,
            "template": setting.template_id,
            "only_outside_hours": setting.only_outside_hours,
            "quiet_hours": setting.quiet_hours,
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("enabled") and data.get("template") is None and "template" not in self.errors:
            self.add_error("template", _("Choose the template to reply with."))
        return data
