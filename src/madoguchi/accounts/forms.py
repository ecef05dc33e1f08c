"""The agent's own preferences."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Agent


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

    class Meta:
        model = Agent
        fields = ["display_name", "language", "time_zone"]
        labels = {"display_name": _("Your name as the team and customers see it")}
