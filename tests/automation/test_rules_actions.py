"""What matching rules do at intake: each action, stop, order, disabled rules, the events
and the counts. Rules are made with ``rule_admin`` and mail comes through real intake."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.actions import set_members
from madoguchi.automation import rule_admin
from madoguchi.automation.models import Group, GroupMember, Rule
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core.event_types import QUIET, EventType
from madoguchi.core.models import Event
from madoguchi.mail_in import actions as intake
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.models import Kind, Notification
from madoguchi.reply_templates.models import Template
from tests import action_fixtures
from tests.factories import make_conversation, make_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

#: The people of the domain action tests (tests/action_fixtures.py).
sato, suzuki, kato = action_fixtures.sato, action_fixtures.suzuki, action_fixtures.kato

BILLING = {"field": "subject", "op": "contains", "value": "請求"}


def rule(mailbox: Mailbox, name: str, actions: list[dict[str, Any]], **data: Any) -> Rule:
    data.setdefault("conditions", [BILLING])
    return rule_admin.create_rule(
        mailbox, {"name": name, "actions": actions, **data}, actor_id=None
    )


def invoice(mailbox: Mailbox, subject: str = "請求書の再発行", **mail: Any) -> Conversation:
    return make_conversation(mailbox, subject=subject, **mail)


def applied(conv: Conversation) -> list[Event]:
    return list(Event.objects.filter(conversation=conv, type=EventType.RULE_APPLIED).order_by("id"))


def deliver_batch(mailbox: Mailbox, mails: list[bytes]) -> list[Any]:
    """Several mails ingested as one batch (as an import or an IMAP fetch does)."""
    raws = [
        intake.accept(mailbox, RawInbound(data=d, source="import"), schedule=False)[0]
        for d in mails
    ]
    rows = RawMessage.objects.select_related("mailbox").filter(pk__in=[r.pk for r in raws])
    return intake.ingest_safely(list(rows.order_by("pk")))


# each action


def test_assign_to_an_agent(mailbox: Mailbox, sato: User) -> None:
    rule(mailbox, "請求書", [{"type": "assign", "agent": sato.pk}])
    conv = invoice(mailbox)
    conv.refresh_from_db()
    assert conv.assignee_id == sato.pk and conv.status == Status.OPEN
    assigned = Event.objects.get(conversation=conv, type=EventType.CONVERSATION_ASSIGNED)
    assert assigned.actor_id is None
    assert assigned.data["rule"] == "請求書" and assigned.data["after_name"] == "佐藤 花子"
    status = Event.objects.get(conversation=conv, type=EventType.CONVERSATION_STATUS)
    assert status.data["rule"] == "請求書"
    (event,) = applied(conv)
    assert event.data["name"] == "請求書" and event.data["did"] == [f"assign:{sato.pk}"]
    assert EventType.RULE_APPLIED.value in QUIET  # not a line of its own in the timeline
    # The assignee hears of it, as of any assignment.
    assert Notification.objects.filter(user=sato, conversation=conv, kind=Kind.ASSIGNED).exists()


def test_assign_skips_an_agent_no_longer_of_the_mailbox(mailbox: Mailbox, sato: User) -> None:
    rule(mailbox, "請求書", [{"type": "assign", "agent": sato.pk}, {"type": "tag", "tag": "請求"}])
    set_members(mailbox, [])
    conv = invoice(mailbox)
    conv.refresh_from_db()
    assert conv.assignee_id is None
    assert list(conv.tags.values_list("name", flat=True)) == ["請求"]
    assert applied(conv)[0].data["did"] == ["assign:skipped", "tag:請求"]


def test_assign_never_takes_a_conversation_from_its_owner(
    mailbox: Mailbox, sato: User, suzuki: User
) -> None:
    conv = invoice(mailbox, message_id="first@tokyo-shoji.example")
    from madoguchi.conversations.actions import assign_conversation

    assign_conversation(conv, assignee_id=suzuki.pk, actor_id=suzuki.pk)
    rule(mailbox, "請求書", [{"type": "assign", "agent": sato.pk}])
    reply = make_mail(subject="Re: 請求書の再発行", in_reply_to="first@tokyo-shoji.example")
    deliver(mailbox, reply)
    conv.refresh_from_db()
    assert conv.assignee_id == suzuki.pk
    assert applied(conv)[0].data["did"] == ["assign:kept"]


def test_assign_to_a_group_asks_the_assignment(mailbox: Mailbox, sato: User) -> None:
    """The group's member is chosen by ``assignment.assign_by`` (its own tests); the rule
    passes its name along, so an assignment it makes names the rule."""
    group = Group.objects.create(name="請求")
    GroupMember.objects.create(group=group, user=sato)
    rule(
        mailbox, "請求書", [{"type": "assign_group", "group": group.pk, "strategy": "round_robin"}]
    )
    conv = invoice(mailbox)
    conv.refresh_from_db()
    (did,) = applied(conv)[0].data["did"]
    assert did.startswith("assign_group:")
    if conv.assignee_id is not None:  # the assignment is in place
        assert did == f"assign_group:{conv.assignee_id}"
        event = Event.objects.get(conversation=conv, type=EventType.CONVERSATION_ASSIGNED)
        assert event.data["rule"] == "請求書"
    else:
        assert did == "assign_group:none"


def test_set_status(mailbox: Mailbox) -> None:
    rule(mailbox, "保留に", [{"type": "status", "status": "hold"}])
    conv = invoice(mailbox)
    conv.refresh_from_db()
    assert conv.status == Status.HOLD
    event = Event.objects.get(conversation=conv, type=EventType.CONVERSATION_STATUS)
    assert event.data == {"before": "new", "after": "hold", "reason": "", "rule": "保留に"}


def test_add_and_remove_tags(mailbox: Mailbox) -> None:
    rule(mailbox, "タグ付け", [{"type": "tag", "tag": "請求"}, {"type": "tag", "tag": "仮"}])
    rule(mailbox, "仮を外す", [{"type": "untag", "tag": "仮"}, {"type": "untag", "tag": "無い"}])
    conv = invoice(mailbox)
    assert list(conv.tags.values_list("name", flat=True)) == ["請求"]
    tagged = Event.objects.filter(conversation=conv, type=EventType.CONVERSATION_TAGGED)
    assert [e.data for e in tagged] == [
        {"tag": "請求", "rule": "タグ付け"},
        {"tag": "仮", "rule": "タグ付け"},
    ]
    untagged = Event.objects.get(conversation=conv, type=EventType.CONVERSATION_UNTAGGED)
    assert untagged.data == {"tag": "仮", "rule": "仮を外す"}
    assert applied(conv)[1].data["did"] == ["untag:仮", "untag:none"]


def test_mark_spam(mailbox: Mailbox) -> None:
    rule(
        mailbox,
        "迷惑",
        [{"type": "spam"}],
        conditions=[{"field": "from", "op": "domain", "value": "spam.example"}],
    )
    conv = invoice(mailbox, sender="Win <win@spam.example>")
    other = invoice(mailbox, subject="請求書")
    conv.refresh_from_db()
    other.refresh_from_db()
    assert conv.status == Status.SPAM and other.status == Status.NEW
    assert (
        Event.objects.get(conversation=conv, type=EventType.CONVERSATION_STATUS).data["rule"]
        == "迷惑"
    )


def test_reply_with_a_template(mailbox: Mailbox) -> None:
    """The reply itself is ``auto_reply.reply_with_template``'s (its own tests); the rule
    asks for it with the template and its name, once per matching mail."""
    template = Template.objects.create(
        name="受付", body="{{customer_name}} 様\nありがとうございます。"
    )
    rule(mailbox, "受付返信", [{"type": "reply", "template": template.pk}])
    conv = invoice(mailbox)
    (did,) = applied(conv)[0].data["did"]
    assert did in (f"reply:{template.pk}", "reply:skipped")
    if did != "reply:skipped":
        queued = Event.objects.get(conversation=conv, type=EventType.MESSAGE_QUEUED)
        assert queued.data.get("rule") == "受付返信"


def test_notify_an_agent_and_the_assignee(mailbox: Mailbox, sato: User, suzuki: User) -> None:
    rule(
        mailbox,
        "請求書",
        [
            {"type": "notify", "agent": "assignee"},  # done last: after the assignment
            {"type": "assign", "agent": sato.pk},
            {"type": "notify", "agent": suzuki.pk},
        ],
    )
    conv = invoice(mailbox)
    told = Notification.objects.filter(conversation=conv, kind=Kind.RULE)
    assert sorted(told.values_list("user_id", flat=True)) == sorted([sato.pk, suzuki.pk])
    assert applied(conv)[0].data["did"] == [
        f"assign:{sato.pk}",
        "notify:assignee",
        f"notify:{suzuki.pk}",
    ]


def test_notify_nobody_outside_the_mailbox(mailbox: Mailbox, kato: User) -> None:
    """An agent who cannot see the mailbox (any more) is not told about its mail."""
    rule(mailbox, "請求書", [{"type": "notify", "agent": "assignee"}])
    conv = invoice(mailbox)
    assert not Notification.objects.filter(conversation=conv, kind=Kind.RULE).exists()


# order, stop, disabled rules


def test_rules_run_in_order_and_stop_ends_them(mailbox: Mailbox) -> None:
    rule(mailbox, "一番目", [{"type": "tag", "tag": "A"}])
    rule(mailbox, "止める", [{"type": "tag", "tag": "B"}, {"type": "stop"}])
    rule(mailbox, "三番目", [{"type": "tag", "tag": "C"}])
    conv = invoice(mailbox)
    assert sorted(conv.tags.values_list("name", flat=True)) == ["A", "B"]
    assert [e.data["name"] for e in applied(conv)] == ["一番目", "止める"]
    other = invoice(mailbox, subject="見積の件")  # matches none of them
    assert applied(other) == []


def test_moving_a_rule_up_changes_what_runs(mailbox: Mailbox) -> None:
    rule(mailbox, "タグ", [{"type": "tag", "tag": "A"}])
    stopper = rule(mailbox, "止める", [{"type": "stop"}])
    rule_admin.move(stopper, -1, actor_id=None)
    conv = invoice(mailbox)
    assert list(conv.tags.all()) == []
    assert [e.data["name"] for e in applied(conv)] == ["止める"]


def test_disabled_rules_do_not_run(mailbox: Mailbox) -> None:
    off = rule(mailbox, "止めた", [{"type": "tag", "tag": "A"}])
    rule_admin.set_enabled(off, False, actor_id=None)
    conv = invoice(mailbox)
    assert list(conv.tags.all()) == [] and applied(conv) == []
    off.refresh_from_db()
    assert off.match_count == 0


def test_rules_of_another_mailbox_do_not_run(mailbox: Mailbox) -> None:
    sales = make_mailbox("sales@example.jp", name="営業")
    rule(sales, "営業の請求", [{"type": "tag", "tag": "A"}])
    conv = invoice(mailbox)
    assert list(conv.tags.all()) == []


def test_a_failing_rule_is_rolled_back_alone(mailbox: Mailbox) -> None:
    """A stored action that no longer works (a status nobody knows) undoes its own rule and
    is logged; the mail is taken in and the other rules run."""
    hold = {"type": "status", "status": "hold"}
    broken = rule(mailbox, "壊れた", [{"type": "tag", "tag": "X"}, hold])
    Rule.objects.filter(pk=broken.pk).update(
        actions=[{"type": "tag", "tag": "X"}, {"type": "status", "status": "bogus"}]
    )
    rule(mailbox, "次", [{"type": "tag", "tag": "Y"}])
    conv = invoice(mailbox)
    conv.refresh_from_db()
    assert list(conv.tags.values_list("name", flat=True)) == ["Y"]
    assert conv.status == Status.NEW
    assert [e.data["name"] for e in applied(conv)] == ["次"]


# counts and cost


def test_matches_are_counted_once_per_rule_and_batch(mailbox: Mailbox) -> None:
    hit = rule(mailbox, "請求書", [{"type": "tag", "tag": "請求"}])
    miss = rule(
        mailbox,
        "見積",
        [{"type": "tag", "tag": "見積"}],
        conditions=[{"field": "subject", "op": "contains", "value": "見積"}],
    )
    mails = [make_mail(subject=f"請求書 {i}", message_id=f"b{i}@x.example") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        deliver_batch(mailbox, [*mails, make_mail(subject="こんにちは")])
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "automation_rule"')]
    assert len(updates) == 1
    hit.refresh_from_db()
    miss.refresh_from_db()
    assert hit.match_count == 3 and hit.last_matched_at is not None
    assert miss.match_count == 0 and miss.last_matched_at is None


def test_headers_are_read_once_per_batch_and_only_when_asked(mailbox: Mailbox) -> None:
    rule(
        mailbox,
        "Becky",
        [{"type": "tag", "tag": "B"}],
        conditions=[{"field": "header", "header": "X-Mailer", "op": "contains", "value": "becky"}],
    )
    mails = [
        make_mail(subject=f"件 {i}", headers={"X-Mailer": "Becky! 2" if i % 2 else "Outlook"})
        for i in range(4)
    ]
    with CaptureQueriesContext(connection) as queries:
        deliver_batch(mailbox, mails)
    heads = [q for q in queries if "SUBSTR" in q["sql"].upper()]
    assert len(heads) == 1
    tagged = Conversation.objects.filter(tags__name="B").values_list("subject", flat=True)
    assert sorted(tagged) == ["件 1", "件 3"]


def test_rules_without_facts_cost_no_query_per_mail(mailbox: Mailbox) -> None:
    """Twenty rules on the message's own fields: the same queries for one mail or five."""
    for i in range(20):
        never = {"field": "subject", "op": "contains", "value": f"該当なし{i}"}
        rule(mailbox, f"r{i}", [{"type": "tag", "tag": "x"}], conditions=[never])

    def rule_queries(n: int, start: int) -> int:
        mails = [make_mail(subject=f"件 {start + i}") for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            deliver_batch(mailbox, mails)
        return len([q for q in queries if '"automation_rule"' in q["sql"]])

    assert rule_queries(1, 0) == rule_queries(5, 10) == 1


def test_a_tag_the_conversation_has_costs_nothing(mailbox: Mailbox) -> None:
    """The customer's reply matches again: the tag is there already, nothing is written."""
    rule(mailbox, "請求書", [{"type": "tag", "tag": "請求"}])
    conv = invoice(mailbox, message_id="t1@tokyo-shoji.example")
    reply = make_mail(subject="Re: 請求書の再発行", in_reply_to="t1@tokyo-shoji.example")
    with CaptureQueriesContext(connection) as queries:
        deliver(mailbox, reply)
    assert not [q for q in queries if "conversations_tag" in q["sql"] and "INSERT" in q["sql"]]
    assert [e.data["did"] for e in applied(conv)] == [["tag:請求"], ["tag:kept"]]
    assert Event.objects.filter(conversation=conv, type=EventType.CONVERSATION_TAGGED).count() == 1


def test_acting_rules_cost_the_same_queries_for_one_mail_or_five(
    mailbox: Mailbox, sato: User
) -> None:
    """Tag, status and assignment are gathered for the batch and written together: five
    matching mails cost the queries of one (conversations.changes.Changes)."""
    rule(mailbox, "請求書", [{"type": "tag", "tag": "請求"}, {"type": "assign", "agent": sato.pk}])
    rule(mailbox, "保留", [{"type": "status", "status": "hold"}, {"type": "untag", "tag": "請求"}])

    def queries(n: int, start: int) -> int:
        mails = [
            make_mail(subject=f"請求書 {start + i}", message_id=f"q{start + i}@x.example")
            for i in range(n)
        ]
        raws = [
            intake.accept(mailbox, RawInbound(data=d, source="import"), schedule=False)[0]
            for d in mails
        ]
        rows = RawMessage.objects.select_related("mailbox").filter(pk__in=[r.pk for r in raws])
        with CaptureQueriesContext(connection) as seen:
            intake.ingest_safely(list(rows.order_by("pk")))
        return len(seen)

    queries(1, 100)  # the tag is made once, on first use
    assert queries(1, 0) == queries(5, 10)
    convs = Conversation.objects.filter(subject__startswith="請求書 1")
    assert {(c.status, c.assignee_id) for c in convs} == {(Status.HOLD, sato.pk)}
    assert not Conversation.objects.filter(tags__name="請求").exists()
    conv = convs.first()
    assert conv is not None
    types = Event.objects.filter(conversation=conv).order_by("id").values_list("type", flat=True)
    assert list(types) == [
        "conversation.created", "message.received", "conversation.tagged",
        "conversation.assigned", "conversation.status", "conversation.status",
        "conversation.untagged", "notification.created", "rule.applied", "rule.applied",
    ]  # fmt: skip


def test_a_failing_rule_that_writes_at_once_keeps_the_earlier_rules_work(
    mailbox: Mailbox,
) -> None:
    """The earlier rule's gathered tag is written before the failing rule's savepoint, so
    rolling the failing rule back does not take it with it."""
    rule(mailbox, "先", [{"type": "tag", "tag": "A"}])
    broken = rule(mailbox, "壊れた", [{"type": "tag", "tag": "X"}])
    Rule.objects.filter(pk=broken.pk).update(
        actions=[
            {"type": "tag", "tag": "X"},
            {"type": "reply", "template": None},
            {"type": "status", "status": "bogus"},
        ]
    )
    rule(mailbox, "次", [{"type": "tag", "tag": "Y"}])
    conv = invoice(mailbox)
    conv.refresh_from_db()
    assert sorted(conv.tags.values_list("name", flat=True)) == ["A", "Y"]
    assert conv.status == Status.NEW
    assert [e.data["name"] for e in applied(conv)] == ["先", "次"]
