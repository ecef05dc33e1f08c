"""The agent's own preferences, and the team page's invitations and roles."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Agent, Role
from madoguchi.core.business_time import DAYS, WeeklyHours
from madoguchi.core.params import ModelIdsField
from madoguchi.mailboxes.models import Mailbox


@lru_cache(maxsize=1)
def time_zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.ModelForm):  # type: ignore[type-arg]
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As the browser says")), *settings.LANGUAGES],
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zones)
    email = forms.EmailField(label=_("Your mail address"), required=False)
    field_order = ["display_name", "language", "time_zone", "email", "notify_by_mail"]

    class Meta:
        model = Agent
        fields = ["display_name", "language", "time_zone", "notify_by_mail"]
        labels = {
            "display_name": _("Your name as the team and customers see it"),
            "notify_by_mail": _("Also send me my notifications by mail"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.user.email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("notify_by_mail") and not data.get("email"):
            self.add_error("email", _("Notification mail needs your mail address."))
        return data


#: The weekdays as the working-hours fields name them.
DAY_LABELS = {
    "mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
    "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday"),
}  # fmt: skip
#: One span of a day: "09:00-18:00" (also 9:00〜18:00, full-width digits, "~" or "–").
_SPAN = re.compile(r"\s*(\d{1,2}(?::\d{2})?)\s*[-~〜–—]\s*(\d{1,2}(?::\d{2})?)\s*")
#: The most open conversations an agent's own cap may say.
MAX_CAP = 10_000


def parse_spans(text: str) -> list[list[str]]:
    """The text "09:00-12:00, 13:00-18:00" as [["09:00", "12:00"], ["13:00", "18:00"]]
    ('' is no hours). ``ValueError`` for anything else."""
    normal = unicodedata.normalize("NFKC", text).replace("、", ",").replace("，", ",")
    spans = []
    for part in filter(None, (p.strip() for p in normal.split(","))):
        match = _SPAN.fullmatch(part)
        if match is None:
            raise ValueError(part)
        spans.append([_hhmm(match[1]), _hhmm(match[2])])
    return spans


def _hhmm(text: str) -> str:
    hours, _, minutes = text.partition(":")
    return f"{int(hours):02d}:{minutes or '00'}"


def spans_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in spans)


class WorkingHoursForm(forms.Form):
    """An agent's working hours (one field a weekday) and their cap of open conversations;
    on the settings page with the prefix "hours"."""

    max_open = forms.IntegerField(
        label=_("At most this many open conversations assigned to me automatically"),
        help_text=_("Empty: the mailbox's cap."),
        min_value=0, max_value=MAX_CAP, required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in DAYS:
            self.fields[day] = forms.CharField(
                label=DAY_LABELS[day], required=False, max_length=200,
                widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
            )  # fmt: skip
        self.order_fields([*DAYS, "max_open"])

    @classmethod
    def initial_for(cls, agent: Agent) -> dict[str, Any]:
        hours = agent.working_hours if isinstance(agent.working_hours, dict) else {}
        initial: dict[str, Any] = {day: spans_text(hours.get(day, [])) for day in DAYS}
        return initial | {"max_open": agent.max_open}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day in DAYS:
            try:
                spans = parse_spans(str(data.get(day) or ""))
                if spans:
                    WeeklyHours.parse({day: spans})
            except ValueError:
                self.add_error(day, _("Write hours like 09:00-18:00, or 09:00-12:00, 13:00-18:00."))
                continue
            if spans:
                hours[day] = spans
        data["working_hours"] = hours
        return data

    def day_fields(self) -> list[forms.BoundField]:
        return [self[day] for day in DAYS]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AGENT)
    mailboxes = ModelIdsField(
        label=_("Mailboxes"),
        queryset=Mailbox.objects.order_by("address"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("Someone in the team has this address already."))
        return email


class AcceptForm(forms.Form):
    """The invited person picks a user name and a password."""

    username = forms.CharField(
        label=_("User name"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    display_name = forms.CharField(
        label=_("Your name as the team and customers see it"), max_length=150
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    password_again = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    def clean_username(self) -> str:
        name = str(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=name).exists():
            raise ValidationError(_("This user name is taken."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password and password != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        elif password:
            try:
                validate_password(password, User(username=data.get("username", "")))
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class MemberForm(forms.Form):
    """Role and access of one agent, on the team page."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    active = forms.BooleanField(label=_("May sign in"), required=False)
