"""Template variables: ``{{customer_name}}`` (or ``{{お客様名}}``) filled in for one reply.

``render`` makes one pass over the text with a pattern whose every match is bounded (at
most ~80 characters from its start), so it is linear in the size of the text, and nothing
of the text or of the values is evaluated: a value is put in as it is, never read as a
template again (a customer who calls themselves "{{agent_name}}" stays exactly that). A name
it does not know stays as written, braces and all, so a typo shows in the preview.

Names are matched after NFKC and case folding (``{{Customer_Name}}`` and the full-width
``｛｛お客様名｝｝`` of a Japanese keyboard both work). ``VARIABLES`` lists each one with its
Japanese aliases, for the editor's help and the docs (docs/automation/templates.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Agent
from madoguchi.conversations.models import Contact, ContactAddress, Conversation
from madoguchi.core.business_time import Span, WeeklyHours
from madoguchi.mailboxes.models import DayOff, Mailbox


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable: its name, the other names it answers to, what it holds, an example."""

    name: str
    aliases: tuple[str, ...]
    label: str | Promise
    example: str


VARIABLES: tuple[Variable, ...] = (
    Variable("customer_name", ("お客様名",), _("The customer's name"), "田中 太郎"),
    Variable(
        "customer_sama",
        ("宛名", "お客様名様"),
        _("The customer's name with 様 (お客様 when the name is unknown)"),
        "田中 太郎 様",
    ),
    Variable(
        "customer_company",
        ("会社名", "お客様会社名"),
        _("The customer's company"),
        "株式会社東京商事",
    ),
    Variable(
        "customer_email",
        ("お客様メールアドレス",),
        _("The customer's mail address"),
        "tanaka@tokyo-shoji.example",
    ),
    Variable("agent_name", ("担当者名",), _("Your name (the agent replying)"), "佐藤 花子"),
    Variable("mailbox_name", ("窓口名",), _("The mailbox's name"), "サポート窓口"),
    Variable(
        "mailbox_address", ("窓口アドレス",), _("The mailbox's address"), "support@example.jp"
    ),
    Variable("signature", ("署名",), _("The mailbox's signature"), "サポート窓口\n03-1234-5678"),
    Variable("conversation_number", ("問い合わせ番号",), _("The conversation's number"), "#123"),
    Variable("subject", ("件名",), _("The conversation's subject"), "請求書の件"),
    Variable("today", ("今日の日付", "日付"), _("Today's date in Japanese"), "2026年12月2日(水)"),
    Variable("today_en", (), _("Today's date in English"), "Wednesday, December 2, 2026"),
    Variable(
        "business_hours",
        ("営業時間",),
        _("The mailbox's business hours in Japanese"),
        "平日 9:00〜18:00（土日祝・年末年始を除く）",
    ),
    Variable(
        "business_hours_en",
        (),
        _("The mailbox's business hours in English"),
        "Weekdays 9:00–18:00 JST (closed on weekends, public holidays and 年末年始)",
    ),
)


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


#: Every name and alias (normalized) → the variable's name.
NAMES: dict[str, str] = {
    _key(alias): v.name for v in VARIABLES for alias in (v.name, *v.aliases)
}  # fmt: skip

#: ``{{ name }}``: ASCII or full-width braces, a little space inside, a name of at most
#: 64 characters without space or braces. Every match is bounded, so a pass is linear.
_VARIABLE = re.compile(
    r"(?:\{\{|｛｛)[ \t\u3000]{0,8}([^{}｛｝\s]{1,64})[ \t\u3000]{0,8}(?:\}\}|｝｝)"
)


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{{name}}`` replaced by its value; unknown names stay as written.

    ``values`` is keyed by the variables' names (``values_for``); an alias or a name written
    in another case or width finds the same value. A key of ``values`` that is no variable
    of ``VARIABLES`` is found by its exact (normalized) name.
    """
    if "{{" not in text and "｛｛" not in text:
        return text
    folded = {_key(k): v for k, v in values.items()}

    def fill(match: re.Match[str]) -> str:
        key = _key(match.group(1))
        value = folded.get(NAMES.get(key, key))
        return match.group(0) if value is None else value

    return _VARIABLE.sub(fill, text)


def values_for(
    conversation_id: int | None,
    *,
    mailbox_id: int,
    agent_user_id: int | None,
    now: datetime | None = None,
) -> dict[str, str]:
    """The variables' values for a reply in that conversation (or a new one) by that agent.

    Without a conversation (a new one) the customer's variables and the number are left
    out, so they stay as written for the agent to fill in. Without an agent (an automatic
    reply) the agent's name is the mailbox's, which signs such a reply. ``now`` (default:
    now) gives today's date, in the mailbox's time zone.
    """
    mailbox = Mailbox.objects.prefetch_related(
        Prefetch("days_off", queryset=DayOff.objects.order_by("start"))
    ).get(pk=mailbox_id)
    values = _mailbox_values(mailbox, now or timezone.now())
    values["agent_name"] = values["mailbox_name"]
    if agent_user_id is not None:
        values.update(_agent_values(agent_user_id))
    if conversation_id is not None:
        conv = (
            Conversation.objects.select_related("contact")
            .filter(pk=conversation_id, mailbox_id=mailbox_id)
            .first()
        )
        if conv is not None:
            values.update(_conversation_values(conv))
    return values


def sample_values(mailbox_id: int, *, agent_user_id: int | None) -> dict[str, str]:
    """Values for a preview without a conversation: the examples of the customer's."""
    values = {v.name: v.example for v in VARIABLES}
    values.update(values_for(None, mailbox_id=mailbox_id, agent_user_id=agent_user_id))
    return values


def _mailbox_values(mailbox: Mailbox, now: datetime) -> dict[str, str]:
    zone = _zone(mailbox.time_zone)
    today = now.astimezone(zone).date()
    try:
        weekly = WeeklyHours.parse(mailbox.business_hours)
    except (TypeError, ValueError):
        weekly = WeeklyHours()
    days_off = _days_off_names(mailbox.days_off.all(), today)
    holidays = bool(mailbox.holiday_country)
    return {
        "mailbox_name": mailbox.name or mailbox.address,
        "mailbox_address": mailbox.address,
        "signature": mailbox.signature.strip(),
        "today": japanese_date(today),
        "today_en": english_date(today),
        "business_hours": hours_ja(weekly, holidays=holidays, days_off=days_off, zone=zone),
        "business_hours_en": hours_en(
            weekly, holidays=holidays, days_off=days_off, zone=zone, now=now
        ),
    }


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return ZoneInfo("Asia/Tokyo")


def _agent_values(user_id: int) -> dict[str, str]:
    agent = Agent.objects.select_related("user").filter(user_id=user_id).first()
    if agent is not None:
        return {"agent_name": agent.name}
    user = User.objects.filter(pk=user_id).first()
    return {"agent_name": user.get_full_name() or user.get_username()} if user else {}


def _conversation_values(conv: Conversation) -> dict[str, str]:
    contact: Contact | None = conv.contact
    name = contact.name.strip() if contact else ""
    email = ""
    if contact is not None:
        first = ContactAddress.objects.filter(contact=contact).order_by("pk").first()
        email = first.email if first else ""
    return {
        "customer_name": name,
        "customer_sama": with_sama(name),
        "customer_company": contact.organization.strip() if contact else "",
        "customer_email": email,
        "conversation_number": f"#{conv.pk}",
        "subject": conv.subject,
    }


#: Honorifics a name may already end with; 様 is not added again.
_HONORIFICS = ("様", "さま", "殿", "御中", "先生")


def with_sama(name: str) -> str:
    """ "田中 太郎 様"; "お客様" when the name is unknown."""
    name = name.strip()
    if not name:
        return "お客様"
    if name.endswith(_HONORIFICS):
        return name
    return f"{name} 様"


JA_WEEKDAYS = "月火水木金土日"
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


def japanese_date(day: date) -> str:
    """ "2026年12月2日(水)"."""
    return f"{day.year}年{day.month}月{day.day}日({JA_WEEKDAYS[day.weekday()]})"


def english_date(day: date) -> str:
    """ "Wednesday, December 2, 2026" (the same in every locale)."""
    return f"{EN_WEEKDAYS[day.weekday()]}, {EN_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _days_off_names(days_off: Iterable[DayOff], today: date) -> list[str]:
    """The names of the days off still to come (yearly ones always), each once."""
    names: list[str] = []
    for off in days_off:
        if (off.yearly or off.end >= today) and off.name.strip() not in names:
            names.append(off.name.strip())
    return names[:6]


def _clock(t: time) -> str:
    return "24:00" if t == time.max else f"{t.hour}:{t.minute:02d}"


def _groups(weekly: WeeklyHours) -> list[tuple[list[int], tuple[Span, ...]]]:
    """Weekdays with the same open spans together, in the order of their first day."""
    found: dict[tuple[Span, ...], list[int]] = {}
    for day, spans in enumerate(weekly.spans):
        if spans:
            found.setdefault(spans, []).append(day)
    return [(days, spans) for spans, days in found.items()]


def _run(days: Sequence[int]) -> bool:
    """Three or more days in a row (Monday to Friday)."""
    return len(days) >= 3 and list(days) == list(range(days[0], days[-1] + 1))


def _days_ja(days: list[int]) -> str:
    if days == [0, 1, 2, 3, 4]:
        return "平日"
    if len(days) == 7:
        return "毎日"
    if days == [5, 6]:
        return "土日"
    if _run(days):
        return f"{JA_WEEKDAYS[days[0]]}〜{JA_WEEKDAYS[days[-1]]}"
    return "・".join(JA_WEEKDAYS[d] for d in days)


def _days_en(days: list[int]) -> str:
    if days == [0, 1, 2, 3, 4]:
        return "Weekdays"
    if len(days) == 7:
        return "Every day"
    if days == [5, 6]:
        return "Weekends"
    if _run(days):
        return f"{EN_SHORT[days[0]]}–{EN_SHORT[days[-1]]}"
    return "/".join(EN_SHORT[d] for d in days)


def hours_ja(
    weekly: WeeklyHours,
    *,
    holidays: bool,
    days_off: Sequence[str] = (),
    zone: ZoneInfo | None = None,
) -> str:
    """ "平日 9:00〜18:00（土日祝・年末年始を除く）"; "" when never open."""
    groups = _groups(weekly)
    if not groups:
        return ""
    open_text = "、".join(
        f"{_days_ja(days)} " + "／".join(f"{_clock(a)}〜{_clock(b)}" for a, b in spans)
        for days, spans in groups
    )
    if zone is not None and zone.key != "Asia/Tokyo":
        open_text += f"（{zone.key}）"
    closed = [JA_WEEKDAYS[d] for d, spans in enumerate(weekly.spans) if not spans]
    if closed == ["土", "日"]:
        weekdays = "土日祝" if holidays else "土日"
    elif closed:
        weekdays = "・".join([*closed, "祝"] if holidays else closed)
    else:
        weekdays = "祝日" if holidays else ""
    excluded = [w for w in (weekdays, *days_off) if w]
    return open_text + (f"（{'・'.join(excluded)}を除く）" if excluded else "")


def _english_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def hours_en(
    weekly: WeeklyHours,
    *,
    holidays: bool,
    days_off: Sequence[str] = (),
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> str:
    """ "Weekdays 9:00–18:00 JST (closed on weekends, public holidays and 年末年始)"."""
    groups = _groups(weekly)
    if not groups:
        return ""
    open_text = "; ".join(
        f"{_days_en(days)} " + ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in spans)
        for days, spans in groups
    )
    if zone is not None:
        name = (now or timezone.now()).astimezone(zone).tzname() or ""
        open_text += f" {name if name.isalpha() else zone.key}"
    closed_days = [d for d, spans in enumerate(weekly.spans) if not spans]
    closed = ["weekends"] if closed_days == [5, 6] else [f"{EN_WEEKDAYS[d]}s" for d in closed_days]
    if holidays:
        closed.append("public holidays")
    closed.extend(days_off)
    return open_text + (f" (closed on {_english_list(closed)})" if closed else "")
