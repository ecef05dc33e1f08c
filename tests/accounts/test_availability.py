"""対応可能 / 離席, working hours and caps: what automatic assignment asks of an agent."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from madoguchi.accounts import availability
from madoguchi.accounts.actions import set_active
from madoguchi.accounts.models import Agent
from madoguchi.core.models import Event
from tests.factories import make_agent

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
#: Weekdays nine to six, with a lunch break.
OFFICE = {
    day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
}


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Tokyo: the 7th is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=TOKYO)


@pytest.fixture
def sato(db: None) -> Agent:
    return make_agent("sato")


def test_going_away_and_coming_back_is_recorded_once_each(sato):
    assert availability.set_available(sato, False, actor_id=sato.user_id, reason="self")
    sato.refresh_from_db()
    assert sato.available is False and sato.away_since is not None
    assert not availability.set_available(sato, False, actor_id=sato.user_id, reason="self")
    assert availability.set_available(sato, True, actor_id=None, reason="manager")
    sato.refresh_from_db()
    assert sato.available is True and sato.away_since is None
    events = list(Event.objects.filter(type="agent.availability").order_by("pk"))
    assert [e.data for e in events] == [
        {"agent": sato.user_id, "available": False, "reason": "self"},
        {"agent": sato.user_id, "available": True, "reason": "manager"},
    ]
    assert events[0].actor_id == sato.user_id and events[1].actor_id is None


def test_no_working_hours_means_always_working(sato):
    assert availability.calendar_of(sato) is None
    assert availability.working(sato, _at(12, 3))  # a Saturday night
    assert availability.takes_work(sato, _at(12, 3))
    assert availability.away_from(sato, _at(12, 3)) is None


def test_working_hours_in_the_agents_time_zone(sato):
    availability.set_working_hours(sato, working_hours=OFFICE, max_open=5)
    sato.refresh_from_db()
    assert sato.max_open == 5
    assert availability.working(sato, _at(7, 9))
    assert not availability.working(sato, _at(7, 12, 30))  # lunch
    assert not availability.working(sato, _at(12, 10))  # Saturday
    # 09:30 in Tokyo is 00:30 UTC: the same moment, whatever zone it is given in.
    assert availability.working(sato, _at(8, 9, 30).astimezone(ZoneInfo("UTC")))


def test_since_when_an_agent_has_been_away(sato):
    availability.set_working_hours(sato, working_hours=OFFICE, max_open=None)
    assert availability.away_from(sato, _at(7, 10)) is None
    assert availability.away_from(sato, _at(7, 12, 30)) == _at(7, 12)
    assert availability.away_from(sato, _at(8, 7)) == _at(7, 18)  # overnight
    assert availability.away_from(sato, _at(14, 8)) == _at(11, 18)  # over the weekend
    availability.set_available(sato, False, actor_id=None, reason="manager")
    sato.refresh_from_db()
    assert sato.away_since is not None
    left = sato.away_since
    later = left + timedelta(days=1)
    found = availability.away_from(sato, later)
    assert found is not None and found <= left  # away since they left, or earlier off hours


def test_a_deactivated_agent_takes_no_work(sato):
    set_active(sato, False, actor_id=None)
    sato.refresh_from_db()
    assert not availability.takes_work(sato, _at(7, 10))
    assert availability.away_from(sato, _at(7, 10)) == availability.EVER


def test_hours_that_no_longer_parse_count_as_none(sato):
    sato.time_zone = "Mars/Olympus_Mons"
    sato.working_hours = OFFICE
    assert availability.calendar_of(sato) is None
    sato.time_zone, sato.working_hours = "Asia/Tokyo", {"mon": []}
    assert availability.calendar_of(sato) is None  # no open minute in the week: none set


@pytest.mark.parametrize(
    "hours",
    [{"mon": [["18:00", "09:00"]]}, {"someday": [["09:00", "18:00"]]}, {"mon": [["9時", "18時"]]}],
)
def test_bad_working_hours_are_refused_with_a_reason(sato, hours):
    with pytest.raises(ValueError):
        availability.set_working_hours(sato, working_hours=hours, max_open=None)
    sato.refresh_from_db()
    assert sato.working_hours == {}


def test_a_negative_cap_is_refused(sato):
    with pytest.raises(ValueError):
        availability.set_working_hours(sato, working_hours={}, max_open=-1)
