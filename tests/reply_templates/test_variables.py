"""Template variables: every one filled in, in both languages, and rendering that is safe and
linear whatever the text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from madoguchi.accounts.models import Role
from madoguchi.conversations.models import Contact
from madoguchi.core.business_time import WeeklyHours
from madoguchi.mailboxes.actions import update_mailbox
from madoguchi.mailboxes.hours_actions import add_day_off, add_preset, set_hours
from madoguchi.reply_templates.variables import (
    NAMES,
    VARIABLES,
    english_date,
    hours_en,
    hours_ja,
    japanese_date,
    render,
    values_for,
    with_sama,
)
from tests.factories import make_agent, make_conversation

#: Wednesday 2 December 2026, 10:00 in Tokyo.
WEDNESDAY = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
WEEKDAYS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


# --- render ------------------------------------------------------------------------------


def test_each_name_and_alias_is_replaced():
    values = {v.name: f"<{v.name}>" for v in VARIABLES}
    for v in VARIABLES:
        for name in (v.name, *v.aliases):
            assert render(f"a {{{{{name}}}}} b", values) == f"a <{v.name}> b"


def test_names_are_matched_across_case_width_and_spaces():
    values = {"customer_name": "田中"}
    assert render("{{Customer_Name}}", values) == "田中"
    assert render("{{ customer_name }}", values) == "田中"
    assert render("｛｛お客様名｝｝様", values) == "田中様"
    assert render("{{　お客様名　}}", values) == "田中"  # ideographic spaces
    assert render("{{ｃｕｓｔｏｍｅｒ＿ｎａｍｅ}}", values) == "田中"


def test_unknown_names_and_broken_braces_stay_as_written():
    values = {"customer_name": "田中"}
    text = "{{unknown}} {{お名前}} {customer_name} {{ customer name }} {{}} {{customer_name}"
    assert render(text, values) == text
    assert render("{{{customer_name}}}", values) == "{田中}"


def test_a_known_name_without_a_value_stays_as_written():
    """A new conversation has no customer yet: the agent sees what to fill in."""
    assert render("{{customer_sama}} {{agent_name}}", {"agent_name": "佐藤"}) == (
        "{{customer_sama}} 佐藤"
    )


def test_values_are_put_in_as_they_are_never_read_again():
    values = {"customer_name": "{{agent_name}}", "agent_name": "佐藤", "subject": "%s {0} \\1"}
    assert render("{{customer_name}}/{{subject}}", values) == "{{agent_name}}/%s {0} \\1"


def test_text_without_variables_comes_back_unchanged():
    text = "いつもお世話になっております。\n{ not } }} {{"
    assert render(text, {"customer_name": "x"}) == text


@pytest.mark.parametrize(
    "text",
    [
        "{{" * 500_000,
        "{{" + " " * 1_000_000 + "}}",
        "{{" + "a" * 1_000_000 + "}}",
        "{{ " + "a" * 63 + " " * 8 + "x" * 1_000_000,
        ("{{customer_name}}" + "x" * 20) * 50_000,
        "｛｛" * 300_000 + "}}" * 300_000,
    ],
    ids=["open braces", "long space", "long name", "almost a name", "many", "full-width"],
)
def test_huge_and_hostile_input_is_rendered_in_one_linear_pass(text):
    """Each match is bounded (~80 characters), so a pass over megabytes is a pass; a
    backtracking pattern would not finish these in the life of the test run."""
    out = render(text, {"customer_name": "田中 太郎"})
    assert len(out) >= len(text) - len("{{customer_name}}") * 50_000


def test_every_alias_is_unique():
    aliases = [a for v in VARIABLES for a in (v.name, *v.aliases)]
    assert len(aliases) == len(set(aliases)) == len(NAMES)


# --- the pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("田中 太郎", "田中 太郎 様"),
        ("", "お客様"),
        ("  ", "お客様"),
        ("田中様", "田中様"),
        ("株式会社東京商事 御中", "株式会社東京商事 御中"),
        ("John Smith", "John Smith 様"),
    ],
)
def test_sama(name, expected):
    assert with_sama(name) == expected


@pytest.mark.parametrize(
    ("day", "ja", "en"),
    [
        (date(2026, 12, 2), "2026年12月2日(水)", "Wednesday, December 2, 2026"),
        (date(2027, 1, 3), "2027年1月3日(日)", "Sunday, January 3, 2027"),
        (date(2028, 2, 29), "2028年2月29日(火)", "Tuesday, February 29, 2028"),
        (date(2026, 5, 4), "2026年5月4日(月)", "Monday, May 4, 2026"),
    ],
)
def test_dates_in_both_languages_with_the_weekday(day, ja, en):
    assert japanese_date(day) == ja
    assert english_date(day) == en


def test_business_hours_of_a_usual_japanese_office():
    weekly = WeeklyHours.parse(WEEKDAYS)
    assert hours_ja(weekly, holidays=True, days_off=["年末年始"]) == (
        "平日 9:00〜18:00（土日祝・年末年始を除く）"
    )
    assert hours_en(weekly, holidays=True, days_off=["年末年始"]) == (
        "Weekdays 9:00–18:00 (closed on weekends, public holidays and 年末年始)"
    )


def test_business_hours_with_a_lunch_break_and_saturday_mornings():
    weekly = WeeklyHours.parse(
        {
            **{d: [["09:00", "12:00"], ["13:00", "17:30"]] for d in ("mon", "tue", "wed", "thu")},
            "fri": [["09:00", "12:00"], ["13:00", "17:30"]],
            "sat": [["10:00", "12:00"]],
        }
    )
    assert hours_ja(weekly, holidays=False) == (
        "平日 9:00〜12:00／13:00〜17:30、土 10:00〜12:00（日を除く）"
    )
    assert hours_en(weekly, holidays=False) == (
        "Weekdays 9:00–12:00, 13:00–17:30; Sat 10:00–12:00 (closed on Sundays)"
    )


def test_business_hours_on_scattered_days_and_around_the_clock():
    scattered = WeeklyHours.parse({d: [["10:00", "16:00"]] for d in ("mon", "wed", "fri")})
    assert (
        hours_ja(scattered, holidays=True) == "月・水・金 10:00〜16:00（火・木・土・日・祝を除く）"
    )
    assert hours_en(scattered, holidays=False).startswith("Mon/Wed/Fri 10:00–16:00 (closed on ")
    always = WeeklyHours.parse(
        {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    assert hours_ja(always, holidays=False) == "毎日 0:00〜24:00"
    assert hours_ja(always, holidays=True) == "毎日 0:00〜24:00（祝日を除く）"
    assert hours_en(always, holidays=True) == "Every day 0:00–24:00 (closed on public holidays)"
    tue_to_sat = WeeklyHours.parse(
        {d: [["09:00", "18:00"]] for d in ("tue", "wed", "thu", "fri", "sat")}
    )
    assert hours_ja(tue_to_sat, holidays=False) == "火〜土 9:00〜18:00（月・日を除く）"
    assert hours_ja(WeeklyHours(), holidays=True) == hours_en(WeeklyHours(), holidays=True) == ""


# --- values_for ---------------------------------------------------------------------------


@pytest.fixture
def conv(team):
    support = update_mailbox(team["support"], signature="サポート窓口\n03-1234-5678")
    set_hours(support, time_zone="Asia/Tokyo", weekly=WEEKDAYS, holiday_country="JP", actor_id=None)
    add_preset(support, "new_year", year=2026, actor_id=None)
    return make_conversation(support, sender="田中 太郎 <tanaka@tokyo-shoji.example>")


def test_every_variable_of_a_reply(conv, team):
    values = values_for(
        conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=team["sato"].user_id, now=WEDNESDAY
    )
    assert values == {
        "customer_name": "田中 太郎",
        "customer_sama": "田中 太郎 様",
        "customer_company": "tokyo-shoji.example",
        "customer_email": "tanaka@tokyo-shoji.example",
        "agent_name": "佐藤 花子",
        "mailbox_name": "サポート窓口",
        "mailbox_address": "support@example.jp",
        "signature": "サポート窓口\n03-1234-5678",
        "conversation_number": f"#{conv.pk}",
        "subject": "請求書の件",
        "today": "2026年12月2日(水)",
        "today_en": "Wednesday, December 2, 2026",
        "business_hours": "平日 9:00〜18:00（土日祝・年末年始を除く）",
        "business_hours_en": (
            "Weekdays 9:00–18:00 JST (closed on weekends, public holidays and 年末年始)"
        ),
    }
    assert set(values) == {v.name for v in VARIABLES}
    text = (
        "{{宛名}}\n{{会社名}}\n担当の{{担当者名}}です。{{問い合わせ番号}}\n{{日付}}\n{{営業時間}}"
    )
    assert render(text, values) == (
        f"田中 太郎 様\ntokyo-shoji.example\n担当の佐藤 花子です。#{conv.pk}\n"
        "2026年12月2日(水)\n平日 9:00〜18:00（土日祝・年末年始を除く）"
    )


def test_company_comes_from_the_contact(conv, team):
    Contact.objects.filter(pk=conv.contact_id).update(organization="株式会社東京商事")
    values = values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=None)
    assert values["customer_company"] == "株式会社東京商事"


def test_without_a_name_the_customer_is_okyakusama(team):
    conv = make_conversation(team["support"], sender="noname@example.com")
    values = values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=None)
    assert values["customer_name"] == ""
    assert values["customer_sama"] == "お客様"
    assert values["customer_email"] == "noname@example.com"
    assert values["agent_name"] == "サポート窓口"  # an automatic reply: the mailbox signs


def test_the_date_is_todays_in_the_mailboxs_time_zone(conv):
    """23:30 UTC on Tuesday is already Wednesday in Tokyo, still Tuesday in New York."""
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    tokyo = values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=None, now=late)
    assert tokyo["today"] == "2026年12月2日(水)"
    set_hours(
        conv.mailbox,
        time_zone="America/New_York",
        weekly=WEEKDAYS,
        holiday_country="US",
        actor_id=None,
    )
    york = values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=None, now=late)
    assert york["today"] == "2026年12月1日(火)"
    assert york["today_en"] == "Tuesday, December 1, 2026"
    assert york["business_hours"].startswith("平日 9:00〜18:00（America/New_York）")
    assert york["business_hours_en"].startswith("Weekdays 9:00–18:00 EST (closed on weekends")


def test_past_days_off_are_not_named(conv):
    add_day_off(
        conv.mailbox,
        name="社員旅行",
        start=date(2025, 6, 1),
        end=date(2025, 6, 2),
        yearly=False,
        actor_id=None,
    )
    add_day_off(
        conv.mailbox,
        name="棚卸し",
        start=date(2027, 3, 31),
        end=date(2027, 3, 31),
        yearly=False,
        actor_id=None,
    )
    values = values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=None, now=WEDNESDAY)
    assert values["business_hours"] == "平日 9:00〜18:00（土日祝・年末年始・棚卸しを除く）"


def test_a_new_conversation_leaves_the_customer_to_fill_in(team):
    boss = make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    values = values_for(
        None, mailbox_id=team["support"].pk, agent_user_id=boss.user_id, now=WEDNESDAY
    )
    assert values["agent_name"] == "山本 部長"
    assert "customer_name" not in values and "conversation_number" not in values
    assert render("{{宛名}} {{担当者名}}", values) == "{{宛名}} 山本 部長"


def test_a_conversation_of_another_mailbox_gives_no_customer(conv, team):
    values = values_for(conv.pk, mailbox_id=team["sales"].pk, agent_user_id=None)
    assert "customer_name" not in values
    assert values["mailbox_name"] == "営業"
