"""Handover (引き継ぎ): an absent agent's customer who writes again is handed to someone else
after the time the mailbox's manager set, once; nobody there: back to 未割り当て."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from madoguchi.accounts import availability
from madoguchi.accounts.actions import add_member, set_active
from madoguchi.accounts.models import Agent
from madoguchi.automation import groups
from madoguchi.automation.assignment import reoffer_due
from madoguchi.automation.models import Strategy
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core.business_time import DAYS
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from tests.factories import CUSTOMER, client_for, make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)
LATER = timedelta(minutes=31)


@pytest.fixture
def crew(team: dict[str, Any], suzuki: Agent) -> dict[str, Any]:
    """Support with sato, kato and suzuki (in this order of user id), handing on after 30
    minutes by round robin."""
    add_member(team["support"], team["kato"].user)
    _policy(team["support"], Strategy.ROUND_ROBIN)
    return {**team, "suzuki": suzuki}


def _policy(mailbox: Mailbox, strategy: str, reoffer: int | None = 30) -> None:
    groups.save_policy(mailbox, strategy=strategy, group_id=None, max_open=None,
                       reoffer_after_minutes=reoffer, actor_id=None)  # fmt: skip


def _start(mailbox: Mailbox) -> tuple[Conversation, str]:
    n = next(_numbers)
    mid = f"ho{n}@customer.example"
    conv = make_conversation(mailbox, subject=f"納期 {n}", message_id=mid)
    return conv, mid


def _customer_writes(mailbox: Mailbox, first: str) -> Conversation:
    n = next(_numbers)
    data = make_mail(subject="Re: 納期", sender=str(CUSTOMER), to=mailbox.address,
                     message_id=f"ho{n}@customer.example", in_reply_to=first)  # fmt: skip
    message = deliver(mailbox, data)
    assert message is not None
    return Conversation.objects.get(pk=message.conversation_id)


def _away(agent: Agent) -> None:
    availability.set_available(agent, False, actor_id=agent.user_id, reason=availability.SELF)


def _handovers(conv: Conversation) -> list[dict[str, Any]]:
    rows = Event.objects.filter(conversation=conv, type="conversation.assigned").order_by("pk")
    return [e.data for e in rows if e.data.get("reason") == "handover"]


def test_an_absent_agents_customer_is_handed_on_after_the_set_time_once(crew):
    support = crew["support"]
    conv, first = _start(support)
    assert conv.assignee_id == crew["sato"].user_id
    _away(crew["sato"])
    conv = _customer_writes(support, first)
    wrote = conv.messages.latest("pk").received_at
    assert reoffer_due(wrote + timedelta(minutes=10)) == 0  # not yet
    assert reoffer_due(wrote + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id == crew["kato"].user_id  # the next in turn
    [event] = _handovers(conv)
    assert event["before"] == crew["sato"].user_id and event["strategy"] == "round_robin"
    assert reoffer_due(wrote + LATER) == 0
    assert reoffer_due(wrote + timedelta(days=3)) == 0  # a late tick: still once
    assert len(_handovers(conv)) == 1


def test_a_customer_who_wrote_before_the_agent_left_stays_with_them(crew):
    support = crew["support"]
    conv, first = _start(support)
    conv = _customer_writes(support, first)
    _away(crew["sato"])
    assert reoffer_due(timezone.now() + LATER) == 0
    conv.refresh_from_db()
    assert conv.assignee_id == crew["sato"].user_id


def test_an_available_agent_keeps_their_conversations(crew):
    support = crew["support"]
    conv, first = _start(support)
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + timedelta(hours=5)) == 0


def test_nobody_to_take_it_goes_back_to_unassigned_and_is_counted(crew):
    support = crew["support"]
    conv, first = _start(support)
    for name in ("sato", "kato", "suzuki"):
        _away(crew[name])
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id is None and conv.status == Status.NEW
    [event] = _handovers(conv)
    assert event["after"] is None
    page = client_for(crew["kato"]).get("/v/unassigned/new/").content.decode()
    assert f'data-conv="{conv.pk}"' in page
    assert reoffer_due(timezone.now() + LATER) == 0


def test_outside_working_hours_counts_as_away(crew):
    support = crew["support"]
    conv, first = _start(support)
    sato = crew["sato"]
    local = timezone.now().astimezone(ZoneInfo(sato.time_zone))
    elsewhen = {DAYS[(local.weekday() + 3) % 7]: [["09:00", "18:00"]]}
    availability.set_working_hours(sato, working_hours=elsewhen, max_open=None)
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id == crew["kato"].user_id


def test_a_deactivated_assignee_is_handed_over(crew):
    support = crew["support"]
    conv, first = _start(support)
    set_active(crew["sato"], False, actor_id=crew["kato"].user_id)
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id == crew["kato"].user_id


def test_sticky_handover_passes_over_the_absent_owner(crew):
    support = crew["support"]
    _policy(support, Strategy.STICKY)
    older, _ = _start(support)
    conv, first = _start(support)
    assert older.assignee_id == conv.assignee_id == crew["sato"].user_id
    _away(crew["sato"])
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id == crew["kato"].user_id
    assert _handovers(conv)[0]["strategy"] == "sticky"


def test_strategy_off_with_a_handover_time_unassigns(crew):
    support = crew["support"]
    conv, first = _start(support)
    _policy(support, Strategy.OFF)
    _away(crew["sato"])
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id is None


def test_no_handover_time_never_hands_on(crew):
    support = crew["support"]
    conv, first = _start(support)
    _policy(support, Strategy.ROUND_ROBIN, reoffer=None)
    _away(crew["sato"])
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + timedelta(days=30)) == 0


def test_done_conversations_are_left_alone(crew):
    support = crew["support"]
    conv, first = _start(support)
    _away(crew["sato"])
    conv = _customer_writes(support, first)
    actions.change_status(conv, Status.DONE, actor_id=None)
    assert reoffer_due(timezone.now() + LATER) == 0


def test_a_group_policy_hands_on_within_the_group(crew):
    support = crew["support"]
    billing = groups.create_group(
        "請求", member_ids=[crew["sato"].user_id, crew["suzuki"].user_id], actor_id=None
    )
    groups.save_policy(support, strategy=Strategy.ROUND_ROBIN, group_id=billing.pk,
                       max_open=None, reoffer_after_minutes=30, actor_id=None)  # fmt: skip
    conv, first = _start(support)
    assert conv.assignee_id == crew["sato"].user_id
    _away(crew["sato"])
    _customer_writes(support, first)
    assert reoffer_due(timezone.now() + LATER) == 1
    conv.refresh_from_db()
    assert conv.assignee_id == crew["suzuki"].user_id
    assert _handovers(conv)[0]["group"] == "請求"
