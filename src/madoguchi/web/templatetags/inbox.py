"""Template helpers for the inbox: labels, ages and Japanese dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

WEEKDAYS_JA = "月火水木金土日"


def _labels() -> dict[str, str]:
    return {
        "new": _("New"),
        "open": _("In progress"),
        "hold": _("On hold"),
        "done": _("Done"),
        "auto": _("Automated"),
        "spam": _("Spam"),
        "trash": _("Trash"),
        "mine": _("Mine"),
        "unassigned": _("Unassigned"),
        "all": _("All mailboxes"),
    }


@register.simple_tag(name="view_label")
@register.simple_tag
def tab_label(name: str | None) -> str:
    """The label of a tab or a view (both share one table)."""
    return _labels().get(name or "", name or "")


@register.filter
def status_label(name: str) -> str:
    return _labels().get(name, name)


@register.filter
def kind_label(kind: str) -> str:
    """The name of a kind of mail (normal, auto_reply, bulk, bounce)."""
    labels = {
        "normal": _("person"),
        "auto_reply": _("auto-reply"),
        "bulk": _("bulk or list mail"),
        "bounce": _("delivery failure"),
    }
    return labels.get(kind, kind)


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "")


def _japanese() -> bool:
    return (translation.get_language() or "").startswith("ja")


@register.filter
def longdate(value: datetime | None) -> str:
    """2026年11月23日(月) 10:00 in Japanese, Nov 23, 2026 10:00 in English."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if _japanese():
        day = WEEKDAYS_JA[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日({day}) {local:%H:%M}"
    return f"{local:%b} {local.day}, {local.year} {local:%H:%M}"


@register.filter
def age(value: datetime | None) -> str:  # noqa: PLR0911 (one return per age band reads best)
    """A short relative age for lists: 3分前, 10:24, 昨日, 11/20."""
    if value is None:
        return ""
    now = timezone.localtime()
    local = timezone.localtime(value)
    delta = now - local
    if delta < timedelta(minutes=1):
        return _("now")
    if delta < timedelta(hours=1):
        minutes = int(delta.total_seconds() // 60)
        return ngettext("%(n)d min ago", "%(n)d min ago", minutes) % {"n": minutes}
    if local.date() == now.date():
        return f"{local:%H:%M}"
    if local.date() == (now - timedelta(days=1)).date():
        return _("Yesterday")
    if local.year == now.year:
        return f"{local.month}/{local.day}" if _japanese() else f"{local:%b} {local.day}"
    return f"{local.year}/{local.month}/{local.day}"


def waited(since: datetime) -> str:
    """How long a customer has waited, for the waiting-longest sort: 5分, 3時間, 2日."""
    minutes = max(int((timezone.now() - since).total_seconds() // 60), 0)
    if minutes < 60:
        return ngettext("waiting %(n)d min", "waiting %(n)d min", minutes) % {"n": minutes}
    if minutes < 60 * 24:
        hours = minutes // 60
        return ngettext("waiting %(n)d h", "waiting %(n)d h", hours) % {"n": hours}
    days = minutes // (60 * 24)
    return ngettext("waiting %(n)d day", "waiting %(n)d days", days) % {"n": days}


@register.filter
def has_history(message: Any) -> bool:
    """True when the full text holds more than the new reply (quoted history, signature)."""
    reply = " ".join(str(message.reply_text).split())
    return bool(reply) and reply != " ".join(str(message.text).split())


@register.simple_tag
def outbox_label(status: str) -> str:
    return {
        "queued": _("Waiting to send"),
        "sending": _("Sending"),
        "sent": _("Sent"),
        "failed": _("Not sent"),
        "cancelled": _("Taken back"),
        "approval": _("Waiting for approval"),
        "returned": _("Sent back"),
    }.get(status, status)


@register.filter
def count_label(n: int) -> str:
    """99+ for counts that reached the cap (queries.COUNT_CAP)."""
    from madoguchi.conversations.queries import COUNT_CAP

    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


@register.filter(needs_autoescape=True)
def highlight(text: str, needles: list[str] | None, autoescape: bool = True) -> str:
    """``linebreaksbr`` with the searched words (``?q=`` of the page) marked."""
    from django.template.defaultfilters import linebreaksbr
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    from madoguchi.search.snippets import mark

    if not needles:
        return linebreaksbr(text, autoescape)
    html = "".join(
        f"<mark>{escape(p.text)}</mark>" if p.marked else str(escape(p.text))
        for p in mark(str(text), needles)
    )
    return mark_safe(html.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>"))  # noqa: S308 (escaped above)


@register.filter
def matches(text: str, needles: list[str] | None) -> bool:
    """Whether ``text`` holds one of the searched words (a quoted part opens for it)."""
    from madoguchi.search.snippets import spans

    return bool(needles) and bool(spans(str(text), needles or []))
