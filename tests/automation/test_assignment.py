"""Automatic assignment: each strategy with agents going away and coming back, caps, sticky
owners, working hours, who is never chosen, and what nobody can take (未割り当て)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.accounts import availability
from madoguchi.accounts.actions import add_member, set_active
from madoguchi.accounts.models import Agent
from madoguchi.automation import assignment, groups
from madoguchi.automation.models import GroupMember, Strategy
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core.business_time import DAYS
from madoguchi.core.models import Event
from madoguchi.mail import Address
from madoguchi.mail_in import actions as intake
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mail_out.actions import queue_reply
from madoguchi.mailboxes.models import Mailbox
from tests.factories import CUSTOMER, client_for, make_agent, make_conversation
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)
OTHER = Address("山田 花子", "hanako@osaka-trading.example")


@pytest.fixture
def crew(team: dict[str, Any], suzuki: Agent) -> dict[str, Any]:
    """Support with three members, in this order of user id: sato, kato, suzuki."""
    add_member(team["support"], team["kato"].user)
    return {**team, "suzuki": suzuki}


def _policy(mailbox: Mailbox, strategy: str, **settings: Any) -> None:
    values = {"group_id": None, "max_open": None, "reoffer_after_minutes": None, **settings}
    groups.save_policy(mailbox, strategy=strategy, actor_id=None, **values)


def _mail(mailbox: Mailbox, sender: Address = CUSTOMER) -> Conversation:
    n = next(_numbers)
    return make_conversation(
        mailbox, subject=f"問い合わせ {n}", message_id=f"as{n}@customer.example",
        sender=str(sender),
    )  # fmt: skip


def _owners(crew: dict[str, Any], *names: str) -> list[int]:
    return [crew[name].user_id for name in names]


def _given(mailbox: Mailbox, count: int, sender: Address = CUSTOMER) -> list[int | None]:
    return [_mail(mailbox, sender).assignee_id for _ in range(count)]


def _away(agent: Agent) -> None:
    availability.set_available(agent, False, actor_id=agent.user_id, reason=availability.SELF)


def _back(agent: Agent) -> None:
    availability.set_available(agent, True, actor_id=agent.user_id, reason=availability.SELF)


def test_round_robin_takes_turns_skips_the_absent_and_takes_them_back(crew):
    support = crew["support"]
    _policy(support, Strategy.ROUND_ROBIN)
    assert _given(support, 4) == _owners(crew, "sato", "kato", "suzuki", "sato")
    _away(crew["sato"])
    assert _given(support, 3) == _owners(crew, "kato", "suzuki", "kato")
    _back(crew["sato"])  # the least recently given now: first again
    assert _given(support, 2) == _owners(crew, "sato", "suzuki")


def test_an_automatic_assignment_says_how_it_was_chosen(crew):
    _policy(crew["support"], Strategy.ROUND_ROBIN)
    conv = _mail(crew["support"])
    event = Event.objects.get(conversation=conv, type="conversation.assigned")
    assert event.actor_id is None
    assert event.data == {
        "before": None, "after": crew["sato"].user_id, "after_name": "佐藤 花子",
        "reason": "auto", "strategy": "round_robin",
    }  # fmt: skip
    assert conv.status == Status.OPEN  # claimed, as when an agent takes it


def test_fewest_open_counts_every_mailbox_and_only_open_work(crew):
    support, sales = crew["support"], crew["sales"]
    add_member(sales, crew["suzuki"].user)
    earlier = [_mail(support) for _ in range(3)] + [_mail(sales)]
    for conv, name in zip(earlier, ["sato", "sato", "kato", "suzuki"], strict=True):
        actions.assign_conversation(conv, assignee_id=crew[name].user_id, actor_id=None)
    _policy(support, Strategy.FEWEST_OPEN)
    # sato 2, kato 1, suzuki 1 (in sales): kato and suzuki tie, by user id kato first.
    assert _given(support, 2) == _owners(crew, "kato", "suzuki")
    actions.change_status(earlier[0], Status.DONE, actor_id=None)
    actions.change_status(earlier[1], Status.DONE, actor_id=None)
    assert _given(support, 1) == _owners(crew, "sato")  # done work does not count


def test_fewest_open_passes_over_the_absent(crew):
    _policy(crew["support"], Strategy.FEWEST_OPEN)
    _away(crew["sato"])
    assert crew["sato"].user_id not in _given(crew["support"], 4)
    _back(crew["sato"])
    assert _given(crew["support"], 1) == _owners(crew, "sato")  # the fewest open now


def test_caps_of_the_mailbox_and_of_an_agent(crew):
    support = crew["support"]
    _policy(support, Strategy.ROUND_ROBIN, max_open=1)
    availability.set_working_hours(crew["sato"], working_hours={}, max_open=2)
    assert _given(support, 5) == _owners(crew, "sato", "kato", "suzuki", "sato") + [None]
    full = Conversation.objects.filter(assignee_id=crew["sato"].user_id).first()
    actions.change_status(full, Status.DONE, actor_id=None)
    assert _given(support, 2) == [*_owners(crew, "sato"), None]


def test_nobody_eligible_waits_in_unassigned_and_is_counted(crew):
    support = crew["support"]
    _policy(support, Strategy.ROUND_ROBIN)
    for name in ("sato", "suzuki", "kato"):
        _away(crew[name])
    conv = _mail(support)
    conv.refresh_from_db()
    assert conv.assignee_id is None and conv.status == Status.NEW
    assert not Event.objects.filter(conversation=conv, type="conversation.assigned").exists()
    client = client_for(crew["sato"])
    page = client.get("/v/unassigned/new/").content.decode()
    assert f'data-conv="{conv.pk}"' in page
    counts = client.get("/f/counts?view=unassigned&tab=new").content.decode()
    tab = re.search(
        r'href="/v/unassigned/new/"[^>]*>\s*\S+ <span class="count"[^>]*>(\d+)<', counts
    )
    assert tab is not None and tab.group(1) == "1"  # the Unassigned view's 新着 tab
    rail = re.search(rf'href="/m/{support.pk}/new/"[^<]*<span class="name">[^<]*</span>\s*'
                     r'<span class="count"[^>]*>(\d+)<', counts)  # fmt: skip
    assert rail is not None and rail.group(1) == "1"  # and the mailbox in the rail


def test_sticky_gives_a_known_customer_to_whoever_last_had_them(crew):
    support = crew["support"]
    _policy(support, Strategy.STICKY)
    first = _mail(support)  # nobody handled 田中 yet: round robin
    assert first.assignee_id == crew["sato"].user_id
    assert _given(support, 1, OTHER) == _owners(crew, "kato")
    assert _given(support, 2) == _owners(crew, "sato", "sato")
    event = Event.objects.filter(type="conversation.assigned").latest("pk")
    assert event.data["strategy"] == "sticky"


def test_sticky_owner_absent_falls_back_to_round_robin(crew):
    support = crew["support"]
    _policy(support, Strategy.STICKY)
    assert _given(support, 1) == _owners(crew, "sato")
    _away(crew["sato"])
    assert _given(support, 1) == _owners(crew, "kato")  # round robin among the others
    # Kato handled 田中 last now: sticky follows them while they are there.
    assert _given(support, 1) == _owners(crew, "kato")
    _back(crew["sato"])
    assert _given(support, 1) == _owners(crew, "kato")


def test_sticky_follows_the_author_of_our_last_reply(crew):
    support = crew["support"]
    conv = _mail(support)
    actions.assign_conversation(conv, assignee_id=crew["suzuki"].user_id, actor_id=None)
    queue_reply(conv, author=crew["kato"].user, text="加藤が代わりにお答えします。", to=[CUSTOMER])
    _policy(support, Strategy.STICKY)
    assert _given(support, 1) == _owners(crew, "kato")


def test_sticky_within_one_batch_keeps_a_customer_with_one_agent(crew):
    support = crew["support"]
    _policy(support, Strategy.STICKY)
    raws = _accept(support, [CUSTOMER, OTHER, CUSTOMER, OTHER])
    intake.ingest_safely(raws)
    convs = Conversation.objects.filter(mailbox=support).order_by("pk")
    assert [c.assignee_id for c in convs] == _owners(crew, "sato", "kato", "sato", "kato")


def _accept(mailbox: Mailbox, senders: list[Address]) -> list[RawMessage]:
    rows = []
    for sender in senders:
        n = next(_numbers)
        data = make_mail(subject=f"まとめて {n}", sender=str(sender), to=mailbox.address,
                         message_id=f"batch{n}@customer.example")  # fmt: skip
        row, _ = intake.accept(mailbox, RawInbound(data=data, source="lmtp"), schedule=False)  # type: ignore[arg-type]
        rows.append(row)
    return list(RawMessage.objects.select_related("mailbox").filter(pk__in=[r.pk for r in rows]))


def test_one_ingest_batch_takes_turns_and_loads_the_pool_once(crew):
    support = crew["support"]
    _policy(support, Strategy.ROUND_ROBIN)
    raws = _accept(support, [Address(f"客 {i}", f"c{i}@batch.example") for i in range(6)])
    with CaptureQueriesContext(connection) as seen:
        intake.ingest_safely(raws)
    convs = Conversation.objects.filter(mailbox=support).order_by("pk")
    assert [c.assignee_id for c in convs] == _owners(crew, *["sato", "kato", "suzuki"] * 2)
    pool_reads = [q for q in seen if "automation_groupmember" in q["sql"]
                  or 'FROM "automation_assignmentpolicy"' in q["sql"]]  # fmt: skip
    assert len(pool_reads) <= 2  # the policy read (and locked) once for the batch


def _off_now(agent: Agent) -> dict[str, list[list[str]]]:
    """Working hours on one weekday three days away only: off now, whatever the hour."""
    local = timezone.now().astimezone(ZoneInfo(agent.time_zone))
    return {DAYS[(local.weekday() + 3) % 7]: [["09:00", "18:00"]]}


def test_outside_working_hours_nobody_is_given_work(crew):
    support = crew["support"]
    _policy(support, Strategy.ROUND_ROBIN)
    sato = crew["sato"]
    availability.set_working_hours(sato, working_hours=_off_now(sato), max_open=None)
    assert crew["sato"].user_id not in _given(support, 3)
    every_day = {day: [["00:00", "24:00"]] for day in DAYS}
    availability.set_working_hours(sato, working_hours=every_day, max_open=None)
    assert _given(support, 1) == _owners(crew, "sato")


def test_deactivated_and_non_member_agents_are_never_chosen(crew):
    support = crew["support"]
    stranger = make_agent("tanabe", display_name="田辺 三郎")  # in no mailbox
    team_group = groups.create_group(
        "請求",
        member_ids=[crew["sato"].user_id, crew["suzuki"].user_id, stranger.user_id],
        actor_id=None,
    )
    set_active(crew["suzuki"], False, actor_id=crew["sato"].user_id)
    _policy(support, Strategy.ROUND_ROBIN, group_id=team_group.pk)
    assert set(_given(support, 4)) == {crew["sato"].user_id}


def test_a_group_hands_out_among_its_members_and_remembers_turns(crew):
    support = crew["support"]
    billing = groups.create_group(
        "請求", member_ids=[crew["suzuki"].user_id, crew["kato"].user_id], actor_id=None
    )
    _policy(support, Strategy.ROUND_ROBIN, group_id=billing.pk)
    assert _given(support, 3) == _owners(crew, "kato", "suzuki", "kato")
    event = Event.objects.filter(type="conversation.assigned").latest("pk")
    assert event.data["group"] == "請求"
    rows = GroupMember.objects.filter(group=billing).values_list("user_id", "last_assigned_at")
    memory = dict(rows)
    assert memory[crew["kato"].user_id] > memory[crew["suzuki"].user_id]


def test_assign_by_from_a_rule_names_the_rule(crew):
    support = crew["support"]
    billing = groups.create_group("請求", member_ids=[crew["kato"].user_id], actor_id=None)
    conv = _mail(support)  # no policy: nobody
    assert conv.assignee_id is None
    given = assignment.assign_by(
        conv, group_id=billing.pk, strategy=Strategy.ROUND_ROBIN, rule="請求書"
    )
    assert given == crew["kato"].user_id
    event = Event.objects.get(conversation=conv, type="conversation.assigned")
    assert event.data["rule"] == "請求書" and event.data["group"] == "請求"
    assert "reason" not in event.data
    assert assignment.assign_by(conv, group_id=987654, strategy=Strategy.ROUND_ROBIN) is None
    assert assignment.assign_by(conv, group_id=None, strategy=Strategy.OFF) is None
    for junk in ("abc", "9" * 40, -3, True):  # what a hand-edited rule may hold
        assert assignment.assign_by(conv, group_id=junk, strategy="round_robin") is None  # type: ignore[arg-type]


def test_a_rule_without_a_strategy_uses_the_groups_own(crew):
    support = crew["support"]
    billing = groups.create_group(
        "請求", strategy=Strategy.FEWEST_OPEN,
        member_ids=[crew["kato"].user_id, crew["suzuki"].user_id], actor_id=None,
    )  # fmt: skip
    busy = _mail(support)
    actions.assign_conversation(busy, assignee_id=crew["kato"].user_id, actor_id=None)
    conv = _mail(support)
    given = assignment.assign_by(conv, group_id=str(billing.pk), strategy="None", rule="請求書")
    assert given == crew["suzuki"].user_id  # fewest open, not kato's turn by user id
    event = Event.objects.get(conversation=conv, type="conversation.assigned")
    assert event.data["strategy"] == "fewest_open"


def test_assign_by_the_mailbox_keeps_memory_in_its_policy(crew):
    support = crew["support"]
    convs = [_mail(support) for _ in range(3)]
    given = [assignment.assign_by(c, group_id=None, strategy=Strategy.ROUND_ROBIN) for c in convs]
    assert given == _owners(crew, "sato", "kato", "suzuki")
    policy = groups.policy_of(support)
    assert set(policy.last_assigned) == {str(uid) for uid in given}
    assert policy.strategy == Strategy.OFF  # remembering turns turned nothing on


def test_off_or_no_policy_assigns_nobody(crew):
    support = crew["support"]
    assert _given(support, 1) == [None]
    _policy(support, Strategy.OFF)
    assert _given(support, 1) == [None]


def test_automated_mail_is_not_handed_out(crew):
    support = crew["support"]
    _policy(support, Strategy.ROUND_ROBIN)
    n = next(_numbers)
    conv = make_conversation(
        support, subject=f"自動応答 {n}", message_id=f"auto{n}@customer.example",
        headers={"Auto-Submitted": "auto-replied"},
    )  # fmt: skip
    assert conv.kind != "normal" and conv.assignee_id is None


def test_pool_choice_is_made_on_fresh_counts(crew):
    """What another worker committed before the lock is seen: counts are read under it."""
    support = crew["support"]
    _policy(support, Strategy.FEWEST_OPEN)
    now = timezone.now()
    policy = groups.policy_of(support)
    pool = assignment.load_pool(support, group_id=None, now=now, policy=policy)
    assert pool is not None
    first = pool.pick(Strategy.FEWEST_OPEN)
    assert first is not None and first.user_id == crew["sato"].user_id
    pool.give(first)
    second = pool.pick(Strategy.FEWEST_OPEN)
    assert second is not None and second.user_id == crew["kato"].user_id
    assert pool.newest >= now and pool.newest - now < timedelta(seconds=1)
