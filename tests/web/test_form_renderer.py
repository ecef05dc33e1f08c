"""``web.form_renderer``: ``<select>`` written in Python gives Django's own markup."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy

from madoguchi.web.form_renderer import FormRenderer

HOSTILE = "<b>\"&'</b>"


class _Form(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "A"), ("b", HOSTILE), (HOSTILE, "x")])
    grouped = forms.ChoiceField(
        choices=[("", "---"), ("東京", [("1", "一"), ("2", gettext_lazy("Open"))]), ("3", "三")]
    )
    many = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two"), (3, "three")])
    maybe = forms.NullBooleanField()
    styled = forms.ChoiceField(
        choices=[("x", "X")],
        widget=forms.Select(attrs={"class": HOSTILE, "required": True, "hidden": False}),
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"plain": "b", "grouped": "2", "many": ["1", "3"], "maybe": "true"},
        {"plain": HOSTILE, "grouped": HOSTILE, "many": [HOSTILE], "maybe": HOSTILE},
    ],
)
def test_every_select_is_djangos_markup(data):
    """Same HTML as Django's templates, selected, grouped, multiple and escaped alike."""
    ours = _Form(data or None, renderer=FormRenderer())
    django = _Form(data or None, renderer=DjangoTemplates())
    for name in _Form.base_fields:
        assert str(ours[name]) == str(django[name]), name
        assert "<option" in str(ours[name])


def test_the_renderer_is_the_sites():
    """Every form of the site renders through it."""
    assert isinstance(_Form().renderer, FormRenderer)
