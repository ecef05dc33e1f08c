"""SLA targets in business time: due from the customer's first mail, met by our first reply,
missed once (and the mailbox's managers told), per-tag targets, done and reopened.

Mail comes through real intake. To start a conversation at a chosen moment (a Friday
evening, the year end), ``arrive`` re-dates the delivered mail and sets the targets again
with ``sla.set_targets``, the intake step under test."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.automation import intake, sla
from madoguchi.automation.settings import save_sla
from madoguchi.automation.sla import Targets
from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import Conversation, Message, Status, Tag
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mail_out import actions as outbox
from madoguchi.mailboxes import hours_actions
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.models import Kind, Notification
from tests.factories import CUSTOMER, make_agent, make_conversation, make_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
TWO_HOURS = Targets(first_response=120, resolution=3 * 9 * 60)


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    """Monday to Friday 9:00–18:00 in Tokyo with Japan's holidays (the defaults); the first
    response is due in 2 business hours, the resolution in 3 business days."""
    mailbox = make_mailbox("support@example.jp", name="サポート")
    save_sla(mailbox, own=TWO_HOURS, tags={}, actor_id=None)
    return mailbox


@pytest.fixture
def sato(mailbox: Mailbox) -> User:
    return make_agent("sato", mailboxes=[mailbox]).user


def arrive(mailbox: Mailbox, at: datetime, **mail: object) -> Conversation:
    """A customer's new conversation, as if their mail had come at ``at``."""
    conv = make_conversation(mailbox, **mail)  # type: ignore[arg-type]
    Message.objects.filter(conversation=conv).update(received_at=at)
    Conversation.objects.filter(pk=conv.pk).update(created_at=at)
    received = Event.objects.filter(conversation=conv, type=EventType.MESSAGE_RECEIVED.value)
    sla.set_targets(intake.load(list(received)))
    return Conversation.objects.get(pk=conv.pk)


def test_first_response_skips_the_weekend(mailbox):
    conv = arrive(mailbox, tokyo(2026, 11, 27, 17, 0))  # a Friday
    assert conv.due_kind == "first_response"
    assert conv.due_at == tokyo(2026, 11, 30, 10, 0)


def test_first_response_skips_the_year_end_days_off(mailbox):
    hours_actions.add_preset(mailbox, "new_year", year=2025, actor_id=None)
    conv = arrive(mailbox, tokyo(2026, 12, 28, 17, 30))  # Monday, the last working day
    assert conv.due_at == tokyo(2027, 1, 4, 10, 30)


def test_first_response_skips_a_public_holiday_and_its_substitute(mailbox):
    """Golden week 2026: 5/4, 5/5 and the 振替休日 5/6 are closed."""
    conv = arrive(mailbox, tokyo(2026, 5, 1, 17, 0))
    assert conv.due_at == tokyo(2026, 5, 7, 10, 0)


def test_a_tag_target_wins_and_the_strictest_tag_of_several(mailbox):
    vip = Tag.objects.create(name="VIP")
    billing = Tag.objects.create(name="請求")
    save_sla(mailbox, own=TWO_HOURS,
             tags={vip.pk: Targets(first_response=30), billing.pk: Targets(first_response=60)},
             actor_id=None)  # fmt: skip
    conv = arrive(mailbox, tokyo(2026, 11, 30, 10, 0))
    assert conv.due_at == tokyo(2026, 11, 30, 12, 0)
    conversations.tag_conversation(conv, "請求", actor_id=None)
    assert Conversation.objects.get(pk=conv.pk).due_at == tokyo(2026, 11, 30, 11, 0)
    conversations.tag_conversation(conv, "VIP", actor_id=None)
    assert Conversation.objects.get(pk=conv.pk).due_at == tokyo(2026, 11, 30, 10, 30)
    conversations.untag_conversation(conv, vip, actor_id=None)
    conversations.untag_conversation(conv, billing, actor_id=None)
    assert Conversation.objects.get(pk=conv.pk).due_at == tokyo(2026, 11, 30, 12, 0)


def test_our_first_reply_meets_it_and_the_resolution_is_due_from_the_start(mailbox, sato):
    conv = arrive(mailbox, tokyo(2026, 11, 27, 17, 0))
    outbox.queue_reply(conv, author=sato, text="確認いたします。", to=[CUSTOMER])
    conv.refresh_from_db()
    assert conv.first_replied_at is not None
    assert conv.due_kind == "resolution"
    # 27 business hours from Friday 17:00: 1 h Friday, 9 h each of Mon, Tue, 8 h Wed.
    assert conv.due_at == tokyo(2026, 12, 2, 17, 0)
    assert sla.check_breaches(tokyo(2026, 12, 1, 9, 0)) == 0


def test_taking_the_reply_back_makes_the_first_response_due_again(mailbox, sato):
    conv = arrive(mailbox, tokyo(2026, 11, 27, 17, 0))
    reply = outbox.queue_reply(conv, author=sato, text="確認いたします。", to=[CUSTOMER])
    assert outbox.cancel(reply, actor=sato)
    conv.refresh_from_db()
    assert conv.first_replied_at is None
    assert (conv.due_kind, conv.due_at) == ("first_response", tokyo(2026, 11, 30, 10, 0))


def test_a_forward_to_a_colleague_is_no_response(mailbox, sato):
    conv = arrive(mailbox, tokyo(2026, 11, 30, 10, 0))
    source = conv.messages.get()
    outbox.queue_forward(conv, author=sato, source=source, text="見てください",
                         to=[CUSTOMER.__class__("経理", "keiri@example.jp")])  # fmt: skip
    conv.refresh_from_db()
    assert conv.due_kind == "first_response" and conv.first_replied_at is None


def test_a_missed_target_is_recorded_once_and_the_managers_are_told(mailbox, sato):
    boss = make_agent("boss", role=Role.MANAGER, mailboxes=[mailbox])
    admin = make_agent("root", role=Role.ADMIN, display_name="管理者")
    elsewhere = make_agent("kato", role=Role.MANAGER,
                           mailboxes=[make_mailbox("sales@example.jp", name="営業")])  # fmt: skip
    conv = arrive(mailbox, tokyo(2026, 11, 27, 17, 0))
    assert sla.check_breaches(tokyo(2026, 11, 30, 9, 59)) == 0
    assert sla.check_breaches(tokyo(2026, 11, 30, 10, 1)) == 1
    assert sla.check_breaches(tokyo(2026, 11, 30, 10, 2)) == 0
    [event] = Event.objects.filter(type=EventType.SLA_BREACHED.value)
    assert event.conversation_id == conv.pk
    assert event.data["target"] == "first_response"
    assert datetime.fromisoformat(event.data["due"]) == tokyo(2026, 11, 30, 10, 0)
    told = set(
        Notification.objects.filter(kind=Kind.SLA_BREACHED).values_list("user_id", flat=True)
    )
    assert told == {boss.user_id, admin.user_id}
    assert sato.pk not in told and elsewhere.user_id not in told


def test_a_late_check_still_records_each_target_once(mailbox, sato):
    """The clock was down for a month: the first response is recorded missed once; after our
    reply the resolution is a new target, missed once too."""
    conv = arrive(mailbox, tokyo(2026, 11, 27, 17, 0))
    month_later = tokyo(2026, 12, 28, 12, 0)
    assert sla.check_breaches(month_later) == 1
    assert sla.check_breaches(month_later + timedelta(days=3)) == 0
    outbox.queue_reply(conv, author=sato, text="遅くなりました。", to=[CUSTOMER])
    conv.refresh_from_db()
    assert conv.due_kind == "resolution" and conv.breached_at is None
    assert sla.check_breaches(month_later) == 1
    assert sla.check_breaches(month_later) == 0
    targets = list(Event.objects.filter(type=EventType.SLA_BREACHED.value)
                   .values_list("data__target", flat=True).order_by("pk"))  # fmt: skip
    assert targets == ["first_response", "resolution"]


def test_done_clears_it_and_the_customer_writing_again_starts_over(mailbox, sato):
    conv = make_conversation(mailbox, message_id="c1@tokyo-shoji.example")
    assert Conversation.objects.get(pk=conv.pk).due_kind == "first_response"
    outbox.queue_reply(conv, author=sato, text="承知しました。", to=[CUSTOMER])
    conversations.change_status(conv, Status.DONE, actor_id=sato.pk)
    conv.refresh_from_db()
    assert (conv.due_at, conv.due_kind) == (None, "")
    again = deliver(mailbox, make_mail(
        subject="Re: 請求書の件", sender=str(CUSTOMER), to=mailbox.address,
        in_reply_to="c1@tokyo-shoji.example", body="まだ届いていません。\n",
    ))  # fmt: skip
    assert again is not None and again.conversation_id == conv.pk
    conv.refresh_from_db()
    assert conv.status == Status.OPEN
    assert conv.due_kind == "first_response" and conv.first_replied_at is None
    assert conv.due_at == calendar_for(mailbox).add(again.received_at, 120)
    assert sla.check_breaches(timezone.now()) == 0


def test_spam_has_no_target_and_a_mailbox_without_targets_sets_none(mailbox):
    conv = make_conversation(mailbox)
    conversations.change_status(conv, Status.SPAM, actor_id=None)
    assert Conversation.objects.get(pk=conv.pk).due_at is None
    other = make_mailbox("sales@example.jp", name="営業")
    plain = make_conversation(other)
    assert (plain.due_at, plain.due_kind) == (None, "")


def test_automated_mail_gets_no_target(mailbox):
    conv = make_conversation(mailbox, headers={"Auto-Submitted": "auto-replied"},
                             subject="自動応答: 不在")  # fmt: skip
    assert conv.kind == "auto_reply"
    assert (conv.due_at, conv.due_kind) == (None, "")


def test_unreadable_stored_hours_still_take_mail(mailbox):
    """Hours saved before the system lost a zone (or written by hand) do not stop intake:
    the mailbox counts with the default hours meanwhile."""
    Mailbox.objects.filter(pk=mailbox.pk).update(time_zone="Mars/Olympus",
                                                 business_hours={"mon": "all day"})  # fmt: skip
    mailbox.refresh_from_db()
    conv = arrive(mailbox, tokyo(2026, 11, 27, 17, 0))
    assert conv.due_at == tokyo(2026, 11, 30, 10, 0)
