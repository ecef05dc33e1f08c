"""Acknowledgements (受付自動返信): sent from the template to new conversations through the
outbox, marked as automatic (RFC 3834), and never to automated mail, our own addresses,
no-reply addresses or a sender answered lately; two auto-responders stop after one reply
each. Mail comes through real intake."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as policy

import pytest
from django.contrib.auth.models import User

from madoguchi.automation import auto_reply, intake
from madoguchi.automation.settings import save_auto_reply, save_sla
from madoguchi.automation.sla import Targets
from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import Conversation, Message, Status
from madoguchi.core.business_time import DAYS
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes import actions as mailbox_actions
from madoguchi.mailboxes import hours_actions
from madoguchi.mailboxes.models import Mailbox
from madoguchi.reply_templates.actions import create_template
from madoguchi.reply_templates.models import Template
from tests.factories import CUSTOMER, make_agent, make_conversation, make_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

BODY = "{{customer_sama}}\n\nお問い合わせありがとうございます。\n受付番号: {{conversation_number}}"


def acknowledging(mailbox: Mailbox, **settings: object) -> Template:
    """Turn the mailbox's acknowledgement on, from a template of its own."""
    template = create_template(name="受付", body=BODY, mailbox_id=mailbox.pk, actor_id=None)
    values = {"enabled": True, "template_id": template.pk, "only_outside_hours": False,
              "quiet_hours": 24, **settings}  # fmt: skip
    save_auto_reply(mailbox, actor_id=None, **values)  # type: ignore[arg-type]
    return template


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    mailbox = make_mailbox("support@example.jp", name="サポート", signature="東京商事サポート")
    acknowledging(mailbox)
    return mailbox


@pytest.fixture
def sato(mailbox: Mailbox) -> User:
    return make_agent("sato", mailboxes=[mailbox]).user


def acks(conv: Conversation | int) -> list[Message]:
    pk = conv if isinstance(conv, int) else conv.pk
    return list(Message.objects.filter(conversation_id=pk, direction="out", author=None))


def skipped(conv: Conversation) -> list[str]:
    rows = Event.objects.filter(conversation=conv, type=EventType.AUTO_REPLY_SKIPPED.value)
    return [e.data["reason"] for e in rows.order_by("pk")]


def test_a_new_conversation_is_acknowledged_from_the_template(mailbox, sato):
    save_sla(mailbox, own=Targets(first_response=120), tags={}, actor_id=None)
    conv = make_conversation(mailbox, message_id="c1@tokyo-shoji.example")
    [ack] = acks(conv)
    assert ack.author_id is None and ack.to == [[CUSTOMER.name, CUSTOMER.email]]
    assert "田中 一郎 様" in ack.text and f"#{conv.pk}" in ack.text
    assert ack.text.rstrip().endswith("東京商事サポート")
    mail = message_from_bytes(bytes(ack.outbox.data), policy=policy)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == "<c1@tokyo-shoji.example>"
    assert mail["References"] == "<c1@tokyo-shoji.example>"
    assert mail["Subject"] == "Re: 請求書の件" and "support@example.jp" in mail["From"]
    assert ack.outbox.status == "queued" and ack.outbox.send_after <= ack.received_at
    [queued] = Event.objects.filter(type=EventType.MESSAGE_QUEUED.value, conversation=conv)
    assert queued.data == {"message": ack.pk, "auto": True} and queued.actor_id is None
    # Nobody answered yet: not assigned, still new, still waiting, the first response due.
    conv.refresh_from_db()
    assert (conv.assignee_id, conv.status) == (None, Status.NEW)
    assert conv.waiting_since is not None and conv.first_replied_at is None
    assert conv.due_kind == "first_response"
    assert Template.objects.get(pk=mailbox_template(mailbox)).use_count == 1


def mailbox_template(mailbox: Mailbox) -> int:
    return Template.objects.filter(mailbox=mailbox).values_list("pk", flat=True).get()


def test_a_reply_in_a_conversation_is_not_acknowledged(mailbox):
    conv = make_conversation(mailbox, message_id="c1@tokyo-shoji.example")
    deliver(mailbox, make_mail(subject="Re: 請求書の件", sender=str(CUSTOMER),
                               in_reply_to="c1@tokyo-shoji.example"))  # fmt: skip
    assert len(acks(conv)) == 1 and skipped(conv) == []


def test_a_mailbox_without_acknowledgements_sends_none(db):
    other = make_mailbox("sales@example.jp", name="営業")
    conv = make_conversation(other)
    assert acks(conv) == [] and skipped(conv) == []


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
        ({"Precedence": "bulk", "List-Id": "<news.shop.example>"}, "bulk"),
    ],
)
def test_automated_mail_is_not_acknowledged(mailbox, headers, kind):
    conv = make_conversation(mailbox, headers=headers)
    assert conv.kind == kind
    assert acks(conv) == [] and skipped(conv) == ["automated"]


def test_auto_submitted_counts_even_for_a_sender_listed_as_a_person(mailbox):
    mailbox_actions.update_mailbox(mailbox, person_senders="tokyo-shoji.example")
    conv = make_conversation(mailbox, headers={"Auto-Submitted": "auto-generated"})
    assert conv.kind == "normal"
    assert acks(conv) == [] and skipped(conv) == ["automated"]


def test_never_to_our_own_addresses(mailbox):
    make_mailbox("sales@example.jp", name="営業")
    conv = make_conversation(mailbox, sender="営業 <sales@example.jp>")
    assert skipped(conv) == ["own_address"]
    via = make_conversation(mailbox, sender="客 <kyaku@example.com>",
                            headers={"Reply-To": "support@example.jp"})  # fmt: skip
    assert acks(via) == [] and skipped(via) == ["own_address"]


def test_never_to_a_no_reply_address(mailbox):
    conv = make_conversation(mailbox, sender="Shop <no-reply@shop.example>")
    assert skipped(conv) == ["no_reply_address"]
    bank = make_conversation(mailbox, sender="Bank <donotreply@bank.example>")
    assert skipped(bank) == ["no_reply_address"]


def test_once_per_sender_within_the_quiet_hours(mailbox):
    first = make_conversation(mailbox, subject="一件目")
    second = make_conversation(mailbox, subject="二件目")
    assert len(acks(first)) == 1
    assert acks(second) == [] and skipped(second) == ["quiet"]
    # A day later (the quiet time is 24 hours) the same customer is acknowledged again.
    Message.objects.filter(pk=acks(first)[0].pk).update(
        received_at=acks(first)[0].received_at - timedelta(hours=25)
    )
    third = make_conversation(mailbox, subject="三件目")
    assert len(acks(third)) == 1


def test_only_outside_business_hours(db):
    mailbox = make_mailbox("support@example.jp", name="サポート")
    acknowledging(mailbox, only_outside_hours=True)
    always = {day: [["00:00", "24:00"]] for day in DAYS}
    hours_actions.set_hours(mailbox, time_zone="Asia/Tokyo", weekly=always,
                            holiday_country="", actor_id=None)  # fmt: skip
    during = make_conversation(mailbox, sender="a@customer.example")
    assert acks(during) == [] and skipped(during) == ["in_hours"]
    hours_actions.set_hours(mailbox, time_zone="Asia/Tokyo", weekly={}, holiday_country="",
                            actor_id=None)  # fmt: skip
    outside = make_conversation(mailbox, sender="b@customer.example")
    assert len(acks(outside)) == 1


def test_no_template_left(mailbox):
    Template.objects.filter(mailbox=mailbox).delete()
    conv = make_conversation(mailbox)
    assert skipped(conv) == ["no_template"]


def test_a_conversation_a_rule_closed_or_answered_is_not_acknowledged(db):
    """Rules run before the acknowledgement in the same batch: they may have marked the
    mail as spam, or replied with a template of their own."""
    mailbox = make_mailbox("support@example.jp", name="サポート")
    template = create_template(name="請求", body="請求書は翌営業日にお送りします。",
                               mailbox_id=mailbox.pk, actor_id=None)  # fmt: skip
    spam = make_conversation(mailbox, sender="a@customer.example")
    answered = make_conversation(mailbox, sender="b@customer.example")
    conversations.change_status(spam, Status.SPAM, actor_id=None)
    assert auto_reply.reply_with_template(answered, template.pk, rule="請求")
    [rule_reply] = acks(answered)
    assert "翌営業日" in rule_reply.text
    queued = Event.objects.get(type=EventType.MESSAGE_QUEUED.value, conversation=answered)
    assert queued.data == {"message": rule_reply.pk, "auto": True, "rule": "請求"}
    acknowledging(mailbox)
    received = Event.objects.filter(type=EventType.MESSAGE_RECEIVED.value)
    auto_reply.acknowledge(intake.load(list(received.order_by("pk"))))
    assert skipped(spam) == ["closed"] and skipped(answered) == ["answered"]
    # The rule's reply obeys the guards too: the same sender within the quiet time.
    assert not auto_reply.reply_with_template(answered, template.pk, rule="請求")
    assert skipped(answered) == ["answered", "quiet"]


def test_two_auto_responders_stop_after_one_reply_each(db):
    """Two Madoguchi mailboxes (two companies) acknowledge everything. Bob of Two writes to
    One, Alice of One writes to Two; each acknowledgement reaches the other mailbox (the
    people's mail is read there) and is left unanswered: one reply each, and no more however
    often the mail goes round."""
    one = make_mailbox("support@one.example", name="One")
    two = make_mailbox("support@two.example", name="Two")
    acknowledging(one)
    acknowledging(two)
    make_conversation(one, sender="Bob <bob@two.example>", subject="Hello One")
    make_conversation(two, sender="Alice <alice@one.example>", subject="Hello Two")
    for _ in range(3):
        for outbox in Outbox.objects.order_by("pk"):
            target = two if outbox.recipients == ["bob@two.example"] else one
            deliver(target, bytes(outbox.data))
    sent = list(Outbox.objects.order_by("pk"))
    assert [o.recipients for o in sent] == [["bob@two.example"], ["alice@one.example"]]
    for outbox in sent:
        assert message_from_bytes(bytes(outbox.data))["Auto-Submitted"] == "auto-replied"
    reasons = Event.objects.filter(type=EventType.AUTO_REPLY_SKIPPED.value)
    assert sorted(r.data["reason"] for r in reasons) == ["automated", "automated"]


def test_a_responder_without_rfc_3834_is_stopped_by_the_quiet_hours(mailbox):
    """Bob's mail program answers our acknowledgement with a fresh mail of its own, without
    Auto-Submitted and outside the thread: the quiet time still ends it."""
    first = make_conversation(mailbox, sender="Bob <bob@shop.example>", subject="注文")
    assert len(acks(first)) == 1
    echo = make_conversation(mailbox, sender="Bob <bob@shop.example>",
                             subject="Thank you for your mail")  # fmt: skip
    assert echo.pk != first.pk
    assert acks(echo) == [] and skipped(echo) == ["quiet"]


def test_no_sender_address(mailbox):
    conv = make_conversation(mailbox, sender="")
    assert acks(conv) == [] and skipped(conv) == ["no_address"]


def test_the_acknowledgement_settings_are_checked(mailbox):
    from django.core.exceptions import ValidationError

    other = make_mailbox("sales@example.jp", name="営業")
    foreign = create_template(name="営業用", body="x", mailbox_id=other.pk, actor_id=None)
    with pytest.raises(ValidationError):
        save_auto_reply(mailbox, enabled=True, template_id=foreign.pk,
                        only_outside_hours=False, quiet_hours=24, actor_id=None)  # fmt: skip
    with pytest.raises(ValidationError):
        save_auto_reply(mailbox, enabled=True, template_id=None, only_outside_hours=False,
                        quiet_hours=24, actor_id=None)  # fmt: skip
    assert save_auto_reply(mailbox, enabled=False, template_id=None, only_outside_hours=False,
                           quiet_hours=24, actor_id=None) == ["enabled", "template_id"]  # fmt: skip
    conv = make_conversation(mailbox)
    assert acks(conv) == [] and skipped(conv) == []


def test_an_iso_2022_jp_mailbox_acknowledges_with_the_header_too(db):
    mailbox = make_mailbox("support@example.jp", name="サポート", outbound_charset="iso-2022-jp")
    acknowledging(mailbox)
    [ack] = acks(make_conversation(mailbox))
    data = bytes(ack.outbox.data)
    assert b"ISO-2022-JP" in data
    mail = message_from_bytes(data, policy=policy)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert "お問い合わせありがとうございます" in mail.get_body().get_content()


def test_added_headers_cannot_start_a_header_of_their_own():
    from madoguchi.mail_out.outgoing import with_headers

    data = b"From: a@example.jp\r\nSubject: x\r\n\r\nbody\r\n"
    out = with_headers(data, [("X-Note", "one\r\nBcc: evil@example.com")])
    head = out.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[-1] == b"X-Note: one Bcc: evil@example.com"
    assert out.endswith(b"\r\n\r\nbody\r\n")
    with pytest.raises(ValueError):
        with_headers(data, [("Bcc: x\r\nX", "y")])


def test_the_conversation_page_shows_the_acknowledgement_and_a_skip(mailbox, sato):
    from tests.factories import client_for

    conv = make_conversation(mailbox, message_id="c1@tokyo-shoji.example")
    again = make_conversation(mailbox, subject="二件目")
    page = client_for(sato).get(f"/c/{conv.pk}/")
    assert page.status_code == 200
    assert "お問い合わせありがとうございます" in page.content.decode()
    assert client_for(sato).get(f"/c/{again.pk}/").status_code == 200
