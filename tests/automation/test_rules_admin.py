"""Managing rules (save, check, order, copy, delete) and trying one on past mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from madoguchi.accounts.models import Role
from madoguchi.automation import rule_admin, tryout
from madoguchi.automation.models import Group, Rule
from madoguchi.conversations.models import Message
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from madoguchi.reply_templates.models import Template
from tests.factories import make_agent, make_conversation, make_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The messages are checked in English (the default language is Japanese)."""
    with translation.override("en"):
        yield


TAG = [{"type": "tag", "tag": "請求"}]
COND = [{"field": "subject", "op": "contains", "value": "請求"}]


@pytest.fixture
def sato(mailbox: Mailbox) -> User:
    return make_agent("sato", mailboxes=[mailbox]).user


@pytest.fixture
def boss(mailbox: Mailbox) -> User:
    return make_agent("boss", role=Role.MANAGER, mailboxes=[mailbox]).user


@pytest.fixture
def kato(db: None) -> User:
    """An agent of another mailbox."""
    return make_agent("kato", mailboxes=[make_mailbox("sales@example.jp", name="営業")]).user


def data(name: str = "請求書", **more: Any) -> dict[str, Any]:
    return {"name": name, "match": "all", "conditions": COND, "actions": TAG, **more}


def order(mailbox: Mailbox) -> list[tuple[str, int]]:
    return list(Rule.objects.filter(mailbox=mailbox).values_list("name", "position"))


def saved(change: str) -> list[str]:
    return [
        e.data["name"]
        for e in Event.objects.filter(type=EventType.RULE_SAVED).order_by("id")
        if e.data.get("change") == change
    ]


# save and check


def test_create_puts_it_last_and_records_it(mailbox: Mailbox, boss: User) -> None:
    first = rule_admin.create_rule(mailbox, data("一"), actor_id=boss.pk)
    second = rule_admin.create_rule(mailbox, data("二"), actor_id=boss.pk)
    assert (first.position, second.position) == (0, 1)
    assert second.created_by_id == boss.pk and second.enabled
    event = Event.objects.filter(type=EventType.RULE_SAVED).last()
    assert event is not None
    assert (event.actor_id, event.mailbox_id, event.data) == (
        boss.pk,
        mailbox.pk,
        {"rule": second.pk, "name": "二", "change": "created"},
    )


def test_stored_as_checked(mailbox: Mailbox, sato: User) -> None:
    rule = rule_admin.create_rule(
        mailbox,
        data(
            "  請求書  ",
            match="any",
            conditions=[
                {"field": "subject", "op": "contains", "value": " 請求 "},
                {"field": "header", "header": " X-Mailer ", "op": "regex", "value": "^Becky"},
            ],
            actions=[{"type": "assign", "agent": str(sato.pk)}, {"type": "stop", "extra": 1}],
        ),
        actor_id=None,
    )
    assert rule.name == "請求書" and rule.match == "any"
    assert rule.conditions == [
        {"field": "subject", "op": "contains", "value": "請求"},
        {"field": "header", "op": "regex", "value": "^Becky", "header": "X-Mailer"},
    ]
    assert rule.actions == [{"type": "assign", "agent": sato.pk}, {"type": "stop"}]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": " "}, "needs a name"),
        ({"name": "x" * 201}, "longer than 200"),
        ({"match": "some"}, "“all” or “any”"),
        ({"conditions": "subject"}, "must be a list"),
        ({"conditions": [{"field": "subject", "op": "regex", "value": "("}]}, "not valid"),
        ({"actions": []}, "at least one action"),
        ({"actions": [{"type": "delete_all"}]}, "Unknown action"),
        ({"actions": [{"type": "assign", "agent": "abc"}]}, "agent of this mailbox"),
        ({"actions": [{"type": "notify", "agent": 999999}]}, "agent of this mailbox"),
        ({"actions": [{"type": "status", "status": "gone"}]}, "Choose a status"),
        ({"actions": [{"type": "tag", "tag": ""}]}, "tag needs a name"),
        ({"actions": [{"type": "untag", "tag": "x" * 65}]}, "tag needs a name"),
        ({"actions": [{"type": "reply", "template": 999999}]}, "template of this mailbox"),
        ({"actions": [{"type": "assign_group", "group": 9999, "strategy": "sticky"}]}, "a group"),
        ({"actions": [{"type": "assign_group", "strategy": "off"}]}, "how the group"),
        ({"actions": [{"type": "tag", "tag": "a"}] * 11}, "at most 10 actions"),
        ({"conditions": COND * 21}, "at most 20 conditions"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(
    mailbox: Mailbox, change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        rule_admin.create_rule(mailbox, data(**change), actor_id=None)
    assert not Rule.objects.exists()


def test_agents_groups_and_templates_must_belong(mailbox: Mailbox, kato: User) -> None:
    """kato is of another mailbox; a template of another mailbox is not usable here."""
    with pytest.raises(ValueError, match="agent of this mailbox"):
        rule_admin.clean(mailbox, data(actions=[{"type": "assign", "agent": kato.pk}]))
    sales = Mailbox.objects.exclude(pk=mailbox.pk).get()
    theirs = Template.objects.create(name="営業用", body="x", mailbox=sales)
    shared = Template.objects.create(name="共通", body="x")
    with pytest.raises(ValueError, match="template of this mailbox"):
        rule_admin.clean(mailbox, data(actions=[{"type": "reply", "template": theirs.pk}]))
    ok = rule_admin.clean(mailbox, data(actions=[{"type": "reply", "template": shared.pk}]))
    assert ok.actions == [{"type": "reply", "template": shared.pk}]
    group = Group.objects.create(name="請求")
    ok = rule_admin.clean(
        mailbox,
        data(
            actions=[
                {"type": "assign_group", "group": str(group.pk), "strategy": "sticky"},
                {"type": "assign_group", "group": "", "strategy": "fewest_open"},
            ]
        ),
    )
    assert ok.actions == [
        {"type": "assign_group", "group": group.pk, "strategy": "sticky"},
        {"type": "assign_group", "group": None, "strategy": "fewest_open"},
    ]


def test_update(mailbox: Mailbox) -> None:
    rule = rule_admin.create_rule(mailbox, data(), actor_id=None)
    rule_admin.update_rule(
        rule,
        data(
            "請求と見積",
            match="any",
            conditions=[*COND, {"field": "subject", "op": "contains", "value": "見積"}],
        ),
        actor_id=None,
    )
    rule.refresh_from_db()
    assert rule.name == "請求と見積" and rule.match == "any" and len(rule.conditions) == 2
    assert saved("updated") == ["請求と見積"]
    with pytest.raises(ValueError):
        rule_admin.update_rule(rule, data(""), actor_id=None)
    rule.refresh_from_db()
    assert rule.name == "請求と見積"


# order, copy, delete, on and off


def test_move_up_and_down_keeps_positions_dense(mailbox: Mailbox) -> None:
    a, b, c = (rule_admin.create_rule(mailbox, data(n), actor_id=None) for n in "ABC")
    assert rule_admin.move(c, -1, actor_id=None)
    assert order(mailbox) == [("A", 0), ("C", 1), ("B", 2)]
    assert rule_admin.move(a, 1, actor_id=None)
    assert order(mailbox) == [("C", 0), ("A", 1), ("B", 2)]
    b.refresh_from_db()
    assert not rule_admin.move(b, 1, actor_id=None)  # already last
    c.refresh_from_db()
    assert not rule_admin.move(c, -1, actor_id=None)  # already first
    assert saved("moved") == ["C", "A"]


def test_copy_goes_right_after_and_is_off(mailbox: Mailbox) -> None:
    a, _ = (rule_admin.create_rule(mailbox, data(n), actor_id=None) for n in "AB")
    copy = rule_admin.copy_rule(a, actor_id=None)
    assert order(mailbox) == [("A", 0), ("A (copy)", 1), ("B", 2)]
    assert not copy.enabled and copy.conditions == a.conditions and copy.actions == a.actions
    assert saved("copied") == ["A (copy)"]


def test_delete_closes_the_gap(mailbox: Mailbox) -> None:
    _, b, _ = (rule_admin.create_rule(mailbox, data(n), actor_id=None) for n in "ABC")
    rule_admin.delete_rule(b, actor_id=None)
    assert order(mailbox) == [("A", 0), ("C", 1)]
    event = Event.objects.get(type=EventType.RULE_DELETED)
    assert event.data == {"rule": b.pk or event.data["rule"], "name": "B"}


def test_enable_and_disable(mailbox: Mailbox) -> None:
    rule = rule_admin.create_rule(mailbox, data(), actor_id=None)
    rule_admin.set_enabled(rule, False, actor_id=None)
    rule_admin.set_enabled(rule, False, actor_id=None)  # no change, no event
    rule_admin.set_enabled(rule, True, actor_id=None)
    assert saved("disabled") == ["請求書"] and saved("enabled") == ["請求書"]


# try it out


def _mail(mailbox: Mailbox, subject: str, **kw: Any) -> Message:
    message = deliver(mailbox, make_mail(subject=subject, **kw))
    assert message is not None
    return message


def test_tryout_counts_conversations_and_lists_them(mailbox: Mailbox) -> None:
    first = _mail(mailbox, "請求書の件", message_id="p1@x.example")
    _mail(mailbox, "Re: 請求書の件", in_reply_to="p1@x.example")  # same conversation
    second = _mail(mailbox, "【請求】３月分")
    _mail(mailbox, "見積の依頼")
    old = _mail(mailbox, "請求（古い）")
    Message.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    other = make_mailbox("sales@example.jp")
    deliver(other, make_mail(subject="請求書", to="sales@example.jp"))
    result = tryout.try_rule(mailbox, "all", COND)
    assert (result.count, result.messages, result.scanned) == (2, 3, 4)
    assert not result.capped and result.timed_out == 0 and result.days == 30
    listed = [c.pk for c in result.conversations]
    assert listed == [second.conversation_id, first.conversation_id]  # newest first


def test_tryout_is_bounded_and_says_so(mailbox: Mailbox) -> None:
    for i in range(4):
        _mail(mailbox, f"請求 {i}")
    result = tryout.try_rule(mailbox, "all", COND, limit=3)
    assert result.capped and result.scanned == 3 and result.count == 3


def test_tryout_list_is_bounded(mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tryout, "LIST_LIMIT", 2)
    for i in range(3):
        _mail(mailbox, f"請求 {i}")
    result = tryout.try_rule(mailbox, "all", COND)
    assert result.count == 3 and len(result.conversations) == 2 and result.more == 1


def test_tryout_reads_headers_and_replies(mailbox: Mailbox) -> None:
    _mail(mailbox, "一", message_id="h1@x.example", headers={"X-Mailer": "Becky! 2"})
    _mail(mailbox, "Re: 一", in_reply_to="h1@x.example", headers={"X-Mailer": "Becky! 2"})
    _mail(mailbox, "二", headers={"X-Mailer": "Outlook"})
    becky = [{"field": "header", "header": "X-Mailer", "op": "contains", "value": "becky"}]
    assert tryout.try_rule(mailbox, "all", becky).messages == 2
    replies = [*becky, {"field": "conversation", "op": "is", "value": "reply"}]
    assert tryout.try_rule(mailbox, "all", replies).messages == 1


def test_tryout_with_a_slow_regex_says_so(mailbox: Mailbox) -> None:
    for i in range(5):
        _mail(mailbox, "a" * 40 + f"! {i}")
    result = tryout.try_rule(
        mailbox, "all", [{"field": "subject", "op": "regex", "value": "(a|a)+$"}]
    )
    assert result.count == 0 and result.timed_out > 0


def test_tryout_refuses_a_bad_condition(mailbox: Mailbox) -> None:
    with pytest.raises(ValueError, match="not valid"):
        tryout.try_rule(mailbox, "all", [{"field": "body", "op": "regex", "value": "[a-"}])


def test_tryout_on_the_factory_conversation(mailbox: Mailbox) -> None:
    conv = make_conversation(mailbox)
    result = tryout.try_rule(
        mailbox,
        "any",
        [
            {"field": "from", "op": "domain", "value": "tokyo-shoji.example"},
        ],
    )
    assert [c.pk for c in result.conversations] == [conv.pk]
