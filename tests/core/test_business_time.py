"""Business time: weekly hours in a zone, Japanese public holidays, the team's days off."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from madoguchi.core.business_time import DAYS, BusinessCalendar, DayOff, WeeklyHours

TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = {day: [["09:00", "18:00"]] for day in DAYS[:5]}
NEW_YEAR = DayOff("年末年始", date(2020, 12, 29), date(2021, 1, 3), yearly=True)


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def office() -> BusinessCalendar:
    """Monday to Friday 9:00–18:00 in Tokyo, Japan's holidays, closed over the new year."""
    return BusinessCalendar.build("Asia/Tokyo", WEEKDAYS, holiday_country="JP",
                                  days_off=[NEW_YEAR])  # fmt: skip


def test_the_weekend_is_skipped(office):
    """Two hours from Friday 17:00: one on Friday, one on Monday."""
    friday = tokyo(2026, 11, 27, 17, 0)
    assert office.add(friday, 120) == tokyo(2026, 11, 30, 10, 0)
    assert not office.is_open(tokyo(2026, 11, 28, 12, 0))
    assert office.next_open(tokyo(2026, 11, 28, 12, 0)) == tokyo(2026, 11, 30, 9, 0)
    assert office.minutes_between(friday, tokyo(2026, 11, 30, 10, 0)) == 120


def test_a_yearly_day_off_spans_the_year_end(office):
    """年末年始, written once for 2020, closes 12/29 to 1/3 in every later year too."""
    assert office.closed_because(date(2026, 12, 30)) == "年末年始"
    assert office.closed_because(date(2027, 1, 2)) == "年末年始"
    assert office.closed_because(date(2027, 1, 4)) is None
    # Monday 12/28 17:00 + 2 h: one hour that day, the next on Monday 1/4 (1/1 is a holiday
    # anyway, 1/2 and 1/3 a weekend, 12/29 to 12/31 our own days off).
    assert office.add(tokyo(2026, 12, 28, 17, 0), 120) == tokyo(2027, 1, 4, 10, 0)


def test_a_one_time_day_off_closes_only_its_year():
    closed = DayOff("棚卸し", date(2026, 3, 10), date(2026, 3, 10))
    calendar = BusinessCalendar.build("Asia/Tokyo", WEEKDAYS, days_off=[closed])
    assert calendar.closed_because(date(2026, 3, 10)) == "棚卸し"
    assert calendar.closed_because(date(2027, 3, 10)) is None


def test_japanese_public_holidays_and_substitute_holiday(office):
    """Golden week 2026: 5/3 (Sunday) 憲法記念日 gives 5/6 as 振替休日; 9/22 is a 国民の休日."""
    assert office.closed_because(date(2026, 5, 4)) == "みどりの日"
    assert office.closed_because(date(2026, 5, 6)) == "振替休日"
    assert office.closed_because(date(2026, 9, 22)) == "国民の休日"
    # Thursday 4/30 17:00 + 2 h: 4/30 one hour, Friday 5/1 the second.
    assert office.add(tokyo(2026, 4, 30, 17, 0), 120) == tokyo(2026, 5, 1, 10, 0)
    # Friday 5/1 17:00 + 2 h: the weekend, 5/4–5/6 closed: Thursday 5/7 10:00.
    assert office.add(tokyo(2026, 5, 1, 17, 0), 120) == tokyo(2026, 5, 7, 10, 0)
    days = [c.day for c in office.closures(date(2026, 5, 1), limit=4)]
    assert days == [date(2026, 5, 3), date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)]


def test_without_a_holiday_country_holidays_are_working_days():
    calendar = BusinessCalendar.build("Asia/Tokyo", WEEKDAYS)
    assert calendar.is_open(tokyo(2026, 5, 6, 10, 0))


def test_a_zone_with_summer_time_counts_real_minutes():
    """New York springs forward on 2026-03-08: that Sunday has 23 hours, and a day of
    24 open hours from Saturday noon ends at Sunday 13:00 on the wall clock."""
    ny = ZoneInfo("America/New_York")
    always = BusinessCalendar.build("America/New_York", {d: [["00:00", "24:00"]] for d in DAYS})
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=ny)
    assert always.add(saturday, 24 * 60) == datetime(2026, 3, 8, 13, 0, tzinfo=ny)
    assert always.minutes_between(saturday, datetime(2026, 3, 9, 12, 0, tzinfo=ny)) == 47 * 60
    # Hours 9–17 on the day the clocks change are still 8 real hours.
    nine_to_five = BusinessCalendar.build("America/New_York", {"sun": [["09:00", "17:00"]]})
    day = datetime(2026, 3, 8, 0, 0, tzinfo=ny)
    assert nine_to_five.minutes_between(day, day + timedelta(days=1)) == 8 * 60
    # A moment given in UTC is read in the calendar's zone.
    assert nine_to_five.is_open(datetime(2026, 3, 8, 13, 30, tzinfo=ZoneInfo("UTC")))


def test_a_calendar_that_never_opens_answers_none_at_once():
    never = BusinessCalendar.build("Asia/Tokyo", {})
    start = tokyo(2026, 1, 5, 10, 0)
    assert never.add(start, 60) is None
    assert never.next_open(start) is None
    assert never.add_days(start, 2) is None
    assert never.minutes_between(start, start + timedelta(days=30)) == 0
    # Weekly hours but a day off all year: the walk is bounded, not endless.
    closed = DayOff("休業", date(2026, 1, 1), date(2026, 12, 31), yearly=True)
    shut = BusinessCalendar.build("Asia/Tokyo", WEEKDAYS, days_off=[closed])
    assert shut.add(start, 60) is None


def test_minutes_between_counts_only_open_time(office):
    monday = tokyo(2026, 11, 30, 8, 0)
    assert office.minutes_between(monday, tokyo(2026, 11, 30, 20, 0)) == 9 * 60
    assert office.minutes_between(monday, tokyo(2026, 12, 7, 8, 0)) == 5 * 9 * 60
    assert office.minutes_between(tokyo(2026, 11, 30, 10, 0), monday) == -60
    assert office.minutes_between(monday, monday) == 0


def test_several_spans_a_day_and_add_days(office):
    lunch = BusinessCalendar.build(
        "Asia/Tokyo", {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in DAYS[:5]}
    )
    assert lunch.add(tokyo(2026, 11, 30, 11, 30), 60) == tokyo(2026, 11, 30, 13, 30)
    assert not lunch.is_open(tokyo(2026, 11, 30, 12, 30))
    # 2 business days after Friday 15:00 is Tuesday 15:00.
    assert office.add_days(tokyo(2026, 11, 27, 15, 0), 2) == tokyo(2026, 12, 1, 15, 0)


@pytest.mark.parametrize(
    "data",
    [
        {"mon": [["18:00", "09:00"]]},
        {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]},
        {"mon": [["9時", "18:00"]]},
        {"mon": [["25:00", "26:00"]]},
        {"mon": [["09:00"]]},
        {"mon": "09:00-18:00"},
        {"someday": [["09:00", "18:00"]]},
        ["mon"],
    ],
)
def test_bad_weekly_hours_are_refused_with_a_reason(data):
    with pytest.raises(ValueError):
        WeeklyHours.parse(data)


def test_weekly_hours_round_trip():
    data = {"mon": [["09:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "15:00"]]}
    assert WeeklyHours.parse(data).as_data() == data
