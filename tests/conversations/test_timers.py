"""Snooze and follow-up (``conversations.timers``): what time, the customer and agents do.

A snoozed conversation is on hold until its time and wakes to 新着 or to its owner, or
earlier when the customer writes; the clock wakes each one once however late it runs,
also when two workers run it at once. A follow-up comes back when the customer has not
answered, and is forgotten when they do.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from madoguchi.conversations import actions, queries, timers
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from tests.conversations.verify import verify_action
from tests.factories import CUSTOMER, make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


def _fresh(conv: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conv.pk)


def _customer_writes(mailbox: Mailbox, n: int = 2, **headers: str) -> None:
    mail = make_mail(subject="Re: 請求書の件", sender=str(CUSTOMER), to=mailbox.address,
                     message_id=f"c{n}@tokyo-shoji.example",
                     in_reply_to="c1@tokyo-shoji.example", headers=headers or None)  # fmt: skip
    assert deliver(mailbox, mail) is not None


def _in_tab(conv: Conversation, agent_user, tab: str) -> bool:
    rows = queries.listed(agent_user.agent, mailbox=conv.mailbox, view=None, tab=tab)
    return rows.filter(pk=conv.pk).exists()


def _woken(conv: Conversation) -> list[Event]:
    return list(conv.events.filter(type=EventType.CONVERSATION_WOKEN).order_by("pk"))


# --- snooze and wake by time ----------------------------------------------------------------


def test_a_snoozed_conversation_leaves_its_tab_until_then(conv, sato):
    until = timezone.now() + timedelta(hours=3)
    with verify_action() as seen:
        timers.snooze(conv, until=until, back_to="new", actor_id=sato.pk)
    assert seen.types == ["conversation.snoozed"]
    event = seen.one(EventType.CONVERSATION_SNOOZED)
    assert event.data == {"until": until.isoformat(), "back_to": "new"}
    assert event.actor_id == sato.pk
    conv = _fresh(conv)
    assert (conv.status, conv.snoozed_until, conv.snooze_back_to) == ("hold", until, "new")
    assert not _in_tab(conv, sato, "new") and _in_tab(conv, sato, "hold")
    assert timers.wake_due(until - timedelta(seconds=1)) == 0
    assert _fresh(conv).status == Status.HOLD


def test_it_wakes_to_new_unread_and_keeps_its_assignee(conv, sato):
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    actions.mark_read(conv, user_id=sato.pk)
    until = timezone.now() + timedelta(hours=3)
    timers.snooze(conv, until=until, back_to="new", actor_id=sato.pk)
    with verify_action() as seen:
        assert timers.wake_due(until) == 1
    assert seen.types == ["conversation.woken", "notification.created"]  # the owner is told
    assert seen.one(EventType.CONVERSATION_WOKEN).data == {"reason": "time"}
    assert seen.one(EventType.CONVERSATION_WOKEN).actor_id is None
    conv = _fresh(conv)
    assert (conv.status, conv.assignee_id, conv.unread) == ("new", sato.pk, True)
    assert (conv.snoozed_until, conv.snooze_back_to) == (None, "")
    assert _in_tab(conv, sato, "new")


def test_it_wakes_to_its_owner_in_progress(conv, sato):
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    actions.mark_read(conv, user_id=sato.pk)
    until = timezone.now() + timedelta(minutes=30)
    timers.snooze(conv, until=until, back_to="owner", actor_id=sato.pk)
    assert timers.wake_due(until + timedelta(minutes=1)) == 1
    conv = _fresh(conv)
    assert (conv.status, conv.assignee_id, conv.unread) == ("open", sato.pk, True)
    assert _woken(conv)[0].data == {"reason": "time"}  # on time: not late


def test_back_to_its_owner_without_one_goes_to_new(conv, sato):
    until = timezone.now() + timedelta(minutes=30)
    timers.snooze(conv, until=until, back_to="owner", actor_id=sato.pk)
    assert timers.wake_due(until) == 1
    assert _fresh(conv).status == Status.NEW


def test_snoozing_again_moves_the_time(conv, sato):
    first = timezone.now() + timedelta(hours=1)
    timers.snooze(conv, until=first, back_to="new", actor_id=sato.pk)
    timers.snooze(conv, until=first + timedelta(days=1), back_to="owner", actor_id=sato.pk)
    assert timers.wake_due(first + timedelta(hours=1)) == 0
    assert timers.wake_due(first + timedelta(days=1)) == 1


def test_a_bad_snooze_is_refused(conv, sato):
    with pytest.raises(ValueError, match="back_to"):
        timers.snooze(conv, until=timezone.now(), back_to="later", actor_id=sato.pk)
    with pytest.raises(ValueError, match="time zone"):
        timers.snooze(conv, until=datetime(2026, 12, 3, 9), back_to="new", actor_id=sato.pk)  # noqa: DTZ001
    assert _fresh(conv).snoozed_until is None


# --- earlier: the customer, an agent ----------------------------------------------------------


def test_the_customer_writing_wakes_it_early_once(conv, mailbox, sato):
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    until = timezone.now() + timedelta(days=2)
    timers.snooze(conv, until=until, back_to="owner", actor_id=sato.pk)
    with verify_action() as seen:
        _customer_writes(mailbox)
    assert "conversation.woken" in seen.types
    assert "conversation.status" not in seen.types  # the woken line says it
    assert seen.one(EventType.CONVERSATION_WOKEN).data == {"reason": "customer"}
    conv = _fresh(conv)
    assert (conv.status, conv.snoozed_until, conv.unread) == ("open", None, True)
    assert timers.wake_due(until + timedelta(days=1)) == 0
    assert len(_woken(conv)) == 1


def test_the_customer_writing_to_one_snoozed_back_to_new_brings_it_to_new(conv, mailbox, sato):
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    timers.snooze(conv, until=timezone.now() + timedelta(days=2), back_to="new", actor_id=sato.pk)
    _customer_writes(mailbox)
    conv = _fresh(conv)
    assert (conv.status, conv.assignee_id) == ("new", sato.pk)


def test_a_held_conversation_that_is_not_snoozed_reopens_as_before(conv, mailbox, sato):
    actions.change_status(conv, Status.HOLD, actor_id=sato.pk)
    with verify_action() as seen:
        _customer_writes(mailbox)
    assert "conversation.woken" not in seen.types
    assert seen.one(EventType.CONVERSATION_STATUS).data["reason"] == "customer replied"


def test_an_agent_wakes_it_by_hand(conv, sato, suzuki):
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    timers.snooze(conv, until=timezone.now() + timedelta(days=1), back_to="owner", actor_id=sato.pk)
    with verify_action() as seen:
        assert timers.wake(conv, reason="manual", actor_id=suzuki.pk)
    assert seen.types == ["conversation.woken"]
    assert seen.one(EventType.CONVERSATION_WOKEN).actor_id == suzuki.pk
    assert (conv.status, conv.snoozed_until) == ("open", None)  # the object follows
    assert _fresh(conv).status == Status.OPEN
    assert not timers.wake(conv, reason="manual", actor_id=suzuki.pk)  # nothing left to wake


def test_moved_out_of_hold_by_hand_it_is_not_woken_again(conv, sato):
    until = timezone.now() + timedelta(hours=1)
    timers.snooze(conv, until=until, back_to="new", actor_id=sato.pk)
    actions.change_status(conv, Status.DONE, actor_id=sato.pk)
    with verify_action() as seen:
        assert timers.wake_due(until) == 0
    assert seen.types == []
    conv = _fresh(conv)
    assert (conv.status, conv.snoozed_until) == ("done", None)


# --- late, and twice at once -------------------------------------------------------------------


def test_a_late_wake_up_still_happens_once(conv, sato):
    """The worker was down for a day: the next tick wakes it, says it was late, and no
    later tick wakes it again."""
    until = timezone.now() + timedelta(minutes=10)
    timers.snooze(conv, until=until, back_to="new", actor_id=sato.pk)
    assert timers.wake_due(until + timedelta(days=1)) == 1
    assert timers.wake_due(until + timedelta(days=1, minutes=1)) == 0
    (event,) = _woken(conv)
    assert event.data == {"reason": "time", "late": True}
    assert _fresh(conv).status == Status.NEW


def test_many_late_wake_ups_are_taken_in_batches(mailbox, sato, monkeypatch):
    monkeypatch.setattr(timers, "BATCH", 2)
    until = timezone.now() + timedelta(minutes=5)
    convs = [make_conversation(mailbox, message_id=f"b{i}@x.example") for i in range(5)]
    for conv in convs:
        timers.snooze(conv, until=until, back_to="new", actor_id=sato.pk)
    assert timers.wake_due(until + timedelta(hours=5)) == 5
    assert Conversation.objects.filter(status="new", snoozed_until=None).count() == 5


@pytest.mark.usefixtures("transactional_db")
def test_two_workers_at_once_wake_each_conversation_once(mailbox, sato):
    """Two clocks run the same moment (two worker processes): every conversation wakes,
    and none twice."""
    until = timezone.now() + timedelta(minutes=5)
    convs = [make_conversation(mailbox, message_id=f"w{i}@x.example") for i in range(12)]
    for conv in convs:
        timers.snooze(conv, until=until, back_to="new", actor_id=sato.pk)
    start, counts, errors = threading.Barrier(2), [], []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            counts.append(timers.wake_due(until + timedelta(hours=1)))
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(counts) == 12
    woken = Event.objects.filter(type=EventType.CONVERSATION_WOKEN)
    assert sorted(woken.values_list("conversation_id", flat=True)) == sorted(c.pk for c in convs)


# --- follow-ups --------------------------------------------------------------------------------


def test_a_follow_up_with_no_answer_comes_back(conv, sato):
    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    actions.change_status(conv, Status.DONE, actor_id=sato.pk)
    actions.mark_read(conv, user_id=sato.pk)
    at = timezone.now() + timedelta(days=3)
    with verify_action() as seen:
        timers.set_follow_up(conv, at=at, user_id=sato.pk)
    assert seen.types == ["follow_up.set"]
    assert seen.one(EventType.FOLLOW_UP_SET).data == {"at": at.isoformat(), "to": sato.pk}
    assert timers.follow_ups_due(at - timedelta(minutes=1)) == 0
    with verify_action() as due:
        assert timers.follow_ups_due(at) == 1
    # the notification is the observer's (notifications.observers); the event names whom
    assert due.one(EventType.FOLLOW_UP_DUE).data == {"to": sato.pk, "at": at.isoformat()}
    conv = _fresh(conv)
    assert (conv.status, conv.unread, conv.follow_up_at, conv.follow_up_by_id) == (
        "open", True, None, None,
    )  # fmt: skip
    assert timers.follow_ups_due(at + timedelta(days=1)) == 0


def test_a_follow_up_names_the_reply_it_follows(conv, sato):
    from madoguchi.mail_out.actions import queue_reply

    reply = queue_reply(conv, author=sato, text="確認します。", to=[CUSTOMER])
    with verify_action() as seen:
        timers.set_follow_up(conv, at=timezone.now() + timedelta(days=2), user_id=sato.pk)
    assert seen.one(EventType.FOLLOW_UP_SET).data["message"] == reply.pk


def test_the_customer_answering_clears_the_follow_up(conv, mailbox, sato):
    at = timezone.now() + timedelta(days=3)
    timers.set_follow_up(conv, at=at, user_id=sato.pk)
    _customer_writes(mailbox)
    assert _fresh(conv).follow_up_at is None
    with verify_action() as seen:
        assert timers.follow_ups_due(at) == 0
    assert seen.types == []


def test_an_automatic_reply_is_no_answer(conv, mailbox, sato):
    at = timezone.now() + timedelta(days=3)
    timers.set_follow_up(conv, at=at, user_id=sato.pk)
    _customer_writes(mailbox, **{"Auto-Submitted": "auto-replied"})
    assert _fresh(conv).follow_up_at == at
    assert timers.follow_ups_due(at) == 1


def test_a_follow_up_due_on_a_snoozed_conversation_ends_the_snooze(conv, sato):
    at = timezone.now() + timedelta(days=1)
    timers.snooze(conv, until=at + timedelta(days=5), back_to="new", actor_id=sato.pk)
    timers.set_follow_up(conv, at=at, user_id=sato.pk)
    assert timers.follow_ups_due(at) == 1
    conv = _fresh(conv)
    assert (conv.status, conv.snoozed_until) == ("open", None)
    assert timers.wake_due(at + timedelta(days=6)) == 0


def test_clearing_a_follow_up(conv, sato):
    at = timezone.now() + timedelta(days=1)
    timers.set_follow_up(conv, at=at, user_id=sato.pk)
    assert timers.clear_follow_up(conv)
    assert not timers.clear_follow_up(conv)
    assert timers.follow_ups_due(at) == 0


# --- when the presets end -----------------------------------------------------------------------


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("now", "preset", "expected"),
    [
        (_at(2026, 12, 2, 10, 0), "later", _at(2026, 12, 2, 13, 0)),
        (_at(2026, 12, 2, 23, 30), "tomorrow", _at(2026, 12, 3, 9, 0)),
        (_at(2026, 12, 2, 10, 0), "next_week", _at(2026, 12, 7, 9, 0)),  # a Wednesday
        (_at(2026, 12, 7, 10, 0), "next_week", _at(2026, 12, 14, 9, 0)),  # a Monday
        (_at(2026, 12, 4, 17, 0), "next_business_day", _at(2026, 12, 7, 9, 0)),  # Friday
        # 元日 (Friday) and the weekend: Monday 4 January
        (_at(2026, 12, 31, 15, 0), "next_business_day", _at(2027, 1, 4, 9, 0)),
        # 成人の日 is Monday 11 January 2027
        (_at(2027, 1, 8, 10, 0), "next_business_day", _at(2027, 1, 12, 9, 0)),
    ],
)
def test_snooze_presets(mailbox, now, preset, expected):
    with timezone.override(TOKYO):
        assert timers.preset_time(preset, now=now, mailbox=mailbox) == expected


def test_a_mailbox_that_opens_later_wakes_at_its_opening(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        business_hours={d: [["10:30", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    mailbox.refresh_from_db()
    with timezone.override(TOKYO):
        found = timers.preset_time("next_business_day", now=_at(2026, 12, 2, 9), mailbox=mailbox)
    assert found == _at(2026, 12, 3, 10, 30)


def test_follow_ups_count_business_days(mailbox):
    """Three business days after Wednesday 30 December 2026 15:00: Thursday 31, then 元日
    and the weekend are skipped, Monday 4 and Tuesday 5 January."""
    found = timers.business_days_later(_at(2026, 12, 30, 15, 0), 3, mailbox)
    assert found == _at(2027, 1, 5, 15, 0)


def test_the_owner_is_told_when_a_snooze_ends_by_time(conv, sato):
    """Kind.WOKEN existed but nothing made one: a woken conversation's owner heard nothing."""
    from madoguchi.notifications.models import Kind, Notification

    actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    until = timezone.now() + timedelta(minutes=30)
    timers.snooze(conv, until=until, back_to="owner", actor_id=sato.pk)
    assert timers.wake_due(until) == 1
    told = Notification.objects.filter(user=sato, kind=Kind.WOKEN, conversation=conv)
    assert told.count() == 1
