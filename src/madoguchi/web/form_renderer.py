"""The form renderer: Django's, with ``<select>`` written in Python.

Django's ``select.html`` includes two templates for every option (``select_option.html``,
``attrs.html``), ~40 µs an option: the time-zone list (~600 options) took ~23 ms to render and
the business-hours page, which has two long lists, ~175 ms. The markup here is the same as
Django's templates give (``tests/web/test_form_renderer.py`` compares them), escaped the same
way; every other widget keeps its template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``attrs.html``: `` name="value"``, a bare name for True, nothing for False."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{conditional_escape(str(value))}"')
    return "".join(out)


def render_select(widget: Mapping[str, Any]) -> SafeString:
    """``select.html`` for a widget context (``Select``, ``SelectMultiple``, ...)."""
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option.get("template_name") != OPTION:
                raise LookupError(option.get("template_name"))  # a widget's own option
            out.append(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


class FormRenderer(DjangoTemplates):
    """Django's default renderer; ``<select>`` without a template per option."""

    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        if template_name == SELECT:
            try:
                return render_select(context["widget"])
            except LookupError:
                pass  # an option with a template of its own: Django's way
        return super().render(template_name, context, request)
