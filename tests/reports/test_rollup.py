"""The reports' numbers against a small history computed by hand (business hours 9–18 on
weekdays in Tokyo, 文化の日 2026-11-03 a holiday), and the rollup rebuilt from the events
equal to the one kept live."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core.models import Event
from madoguchi.mail import Address
from madoguchi.mail_out import actions as outbox
from madoguchi.reports import queries, rollup
from madoguchi.reports.models import DayTimes, DayTotals, HourTotals, Metric, TemplateDay
from tests.factories import make_agent, make_conversation, make_mailbox

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


def _reply(conv: Conversation, agent, when: datetime) -> None:  # type: ignore[no-untyped-def]
    outbox.queue_reply(conv, author=agent.user, text="ご連絡ありがとうございます。",
                       to=[Address("", "customer@example.jp")])  # fmt: skip
    _retime(conv, when)


def _retime(conv: Conversation, when: datetime) -> None:
    """The events just recorded for ``conv`` happened at ``when``."""
    newest = Event.objects.filter(conversation=conv, created_at__gte=_retime.mark)  # type: ignore[attr-defined]
    newest.update(created_at=when)
    _retime.mark = datetime.now(tz=TOKYO)  # type: ignore[attr-defined]


def _snapshot() -> tuple[list[tuple[object, ...]], ...]:
    hours = sorted(HourTotals.objects.values_list(
        "mailbox_id", "hour", "agent", "tag", "conversations", "messages_in", "replied",
        "closed", "reopened", "notes", "breaches", "tagged", "first_responses",
        "first_response_minutes", "resolutions", "resolution_minutes"))  # fmt: skip
    times = sorted(DayTimes.objects.values_list("mailbox_id", "day", "agent", "tag", "metric",
                                                "bucket", "count"))  # fmt: skip
    templates = sorted(TemplateDay.objects.values_list("mailbox_id", "day", "template", "uses"))
    days = sorted(DayTotals.objects.values_list("mailbox_id", "day", "agent", "tag", "replied",
                                                "closed", "first_response_minutes"))  # fmt: skip
    return hours, times, templates, days


def test_numbers_by_hand_with_business_hours_and_a_holiday() -> None:
    box = make_mailbox("support@example.jp")
    sato = make_agent("sato", mailboxes=[box])
    _retime.mark = datetime.now(tz=TOKYO)  # type: ignore[attr-defined]
    # A: Monday 17:00 → reply Wednesday 10:00 (Mon 60 + holiday 0 + Wed 60 = 120 minutes),
    #    closed Wednesday 11:00 (180 minutes)
    a = make_conversation(box, subject="A", message_id="a@x")
    _retime(a, at(2, 17))
    actions.tag_conversation(a, "請求", actor_id=sato.user_id)
    _retime(a, at(2, 17, 5))
    _reply(a, sato, at(4, 10))
    actions.change_status(a, Status.DONE, actor_id=sato.user_id)
    _retime(a, at(4, 11))
    # B: Wednesday 9:30 → reply 9:40 (10), closed 10:00 (30); the customer writes again on
    #    Thursday (reopened), a note
    b = make_conversation(box, subject="B", message_id="b@x")
    _retime(b, at(4, 9, 30))
    _reply(b, sato, at(4, 9, 40))
    actions.change_status(b, Status.DONE, actor_id=sato.user_id)
    _retime(b, at(4, 10))
    actions.add_note(b, author_id=sato.user_id, text="確認済み")
    _retime(b, at(4, 10, 5))
    actions.change_status(b, Status.OPEN, actor_id=None)
    _retime(b, at(5, 9))
    rollup.rebuild()

    month = queries.period_for("month", date(2026, 11, 15), TOKYO)
    got = queries.totals([box.pk], month)
    assert {k: got[k] for k in ("conversations", "messages_in", "replied", "closed", "reopened",
                                "notes", "first_responses", "resolutions")} == {
        "conversations": 2, "messages_in": 2, "replied": 2, "closed": 2, "reopened": 1,
        "notes": 1, "first_responses": 2, "resolutions": 2,
    }  # fmt: skip
    assert got["first_response_minutes"] == 120 + 10
    assert got["resolution_minutes"] == 180 + 30
    first = queries.times([box.pk], month, Metric.FIRST_RESPONSE)
    assert (first.count, first.median) == (2, 10.0)  # the lower middle value
    resolution = queries.times([box.pk], month, Metric.RESOLUTION)
    assert resolution.count == 2 and 180 * 0.9 <= (resolution.p90 or 0) <= 180 * 1.1
    mine = queries.totals([box.pk], month, agent=sato.user_id)
    assert (mine["replied"], mine["closed"], mine["notes"]) == (2, 2, 1)
    billing = queries.totals([box.pk], month, tag="請求")
    assert (billing["tagged"], billing["replied"], billing["closed"]) == (1, 1, 1)
    assert billing["first_response_minutes"] == 120
    wednesday = queries.period_for("day", date(2026, 11, 4), TOKYO)
    assert queries.totals([box.pk], wednesday)["conversations"] == 1
    assert queries.heatmap([box.pk], month)[0][17] == 1  # Monday 17h
    assert queries.heatmap([box.pk], month)[2][9] == 1  # Wednesday 9h


def test_the_rebuilt_rollup_equals_the_live_one() -> None:
    box = make_mailbox("support@example.jp")
    sato = make_agent("sato", mailboxes=[box])
    for n in range(3):
        conv = make_conversation(box, subject=f"問い合わせ {n}", message_id=f"m{n}@x")
        tag = actions.tag_conversation(conv, "請求" if n % 2 else "納期", actor_id=sato.user_id)
        outbox.queue_reply(conv, author=sato.user, text="承知しました。",
                           to=[Address("", "customer@example.jp")])  # fmt: skip
        actions.add_note(conv, author_id=sato.user_id, text="メモ")
        actions.change_status(conv, Status.DONE, actor_id=sato.user_id)
        if n == 0:
            actions.change_status(conv, Status.OPEN, actor_id=None)
            actions.untag_conversation(conv, tag, actor_id=None)
            actions.change_status(conv, Status.DONE, actor_id=sato.user_id)
    live = _snapshot()
    assert live[0] and live[1]
    assert rollup.rebuild() > 0
    assert _snapshot() == live
