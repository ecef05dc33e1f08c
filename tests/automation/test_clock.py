"""The clock (``automation.clock.tick``): every step runs each tick, and a step that fails
is logged while the others still run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from madoguchi.automation import assignment, clock, sla
from madoguchi.conversations import timers
from madoguchi.conversations.models import Conversation
from tests.factories import make_agent, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(mailbox) -> tuple[Conversation, Conversation, datetime]:
    """A snoozed conversation and one with a follow-up, both due at the returned time."""
    sato = make_agent("sato", mailboxes=[mailbox]).user
    at = timezone.now() + timedelta(hours=1)
    snoozed = make_conversation(mailbox, message_id="s@x.example")
    timers.snooze(snoozed, until=at, back_to="new", actor_id=sato.pk)
    followed = make_conversation(mailbox, message_id="f@x.example", subject="見積もり")
    timers.set_follow_up(followed, at=at, user_id=sato.pk)
    return snoozed, followed, at


def test_a_tick_runs_every_step_and_counts(due):
    snoozed, followed, at = due
    assert clock.tick(at - timedelta(minutes=1)) == {
        "woken": 0, "follow_ups": 0, "breaches": 0, "reoffered": 0,
    }  # fmt: skip
    assert clock.tick(at) == {"woken": 1, "follow_ups": 1, "breaches": 0, "reoffered": 0}
    assert clock.tick(at + timedelta(days=1)) == {
        "woken": 0, "follow_ups": 0, "breaches": 0, "reoffered": 0,
    }  # fmt: skip
    snoozed.refresh_from_db()
    followed.refresh_from_db()
    assert snoozed.status == "new" and followed.follow_up_at is None


def test_a_tick_without_a_time_uses_now(due):
    snoozed, _, at = due
    Conversation.objects.filter(pk=snoozed.pk).update(snoozed_until=timezone.now())
    assert clock.tick()["woken"] == 1


def test_the_steps_are_the_documented_ones():
    names = [name for name, _ in clock.steps()]
    assert names == ["woken", "follow_ups", "breaches", "reoffered"]


def test_one_failing_step_does_not_stop_the_others(due, monkeypatch, caplog):
    _, followed, at = due
    ran: list[str] = []

    def broken(now: datetime) -> int:
        raise RuntimeError("the snooze step is broken")

    def breaches(now: datetime) -> int:
        ran.append("breaches")
        return 0

    def reoffers(now: datetime) -> int:
        ran.append("reoffered")
        return 2

    monkeypatch.setattr(timers, "wake_due", broken)
    monkeypatch.setattr(sla, "check_breaches", breaches)
    monkeypatch.setattr(assignment, "reoffer_due", reoffers)
    with caplog.at_level(logging.ERROR, logger="madoguchi.automation.clock"):
        counts = clock.tick(at)
    assert counts == {"woken": clock.FAILED, "follow_ups": 1, "breaches": 0, "reoffered": 2}
    assert ran == ["breaches", "reoffered"]
    followed.refresh_from_db()
    assert followed.follow_up_at is None  # the step after the broken one did its work
    (record,) = [r for r in caplog.records if r.name == "madoguchi.automation.clock"]
    assert "woken failed" in record.getMessage() and record.exc_info is not None


def test_a_failing_step_leaves_its_items_for_the_next_tick(due, monkeypatch):
    snoozed, _, at = due

    def broken(now: datetime) -> int:
        raise RuntimeError("database away")

    monkeypatch.setattr(timers, "follow_ups_due", broken)
    assert clock.tick(at)["follow_ups"] == clock.FAILED
    monkeypatch.undo()
    assert clock.tick(at + timedelta(hours=1))["follow_ups"] == 1
