"""Each action of ``mail_out.actions``: exactly the events it records, whom it tells, and
what the conversation shows after it (counted, waiting, owner, status).

The conversation's fields are written by ``conversations.actions`` (``record_outbound``,
``release_outbound``, ``undo_outbound``); notifications come from observing the events.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import Conversation, Message, Status
from madoguchi.core.event_types import EventType
from madoguchi.mail import Address
from madoguchi.mail_out import actions
from madoguchi.mail_out.models import Draft, Outbox
from madoguchi.mailboxes.actions import update_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.conversations.verify import verify_action
from tests.factories import CUSTOMER, make_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(db: None, smtp_capture) -> Mailbox:
    """Sends at once, to a real (capturing) SMTP server; ``sato``, ``boss`` and ``conv``
    (tests/action_fixtures.py) live here."""
    ctl, _ = smtp_capture
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": ctl.port, "smtp_security": "none"}
    return make_mailbox(undo_seconds=0, **smtp)


def _fresh(conv: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conv.pk)


def _held(mailbox: Mailbox, conv: Conversation, author: User, then: Status | None) -> Message:
    update_mailbox(mailbox, replies_need_approval=True)
    text = "お見積もりです。"
    return actions.queue_reply(conv, author=author, text=text, to=[CUSTOMER], then=then)


def test_queue_reply_answers_takes_and_opens_a_new_conversation(conv, sato):
    with verify_action() as seen:
        message = actions.queue_reply(conv, author=sato, text="お見積もりです。", to=[CUSTOMER])
    assert seen.types == ["message.queued", "conversation.assigned", "conversation.status"]
    assert seen.one(EventType.MESSAGE_QUEUED).data == {"message": message.pk}
    assert seen.one(EventType.CONVERSATION_ASSIGNED).data["after"] == sato.pk
    assert seen.one(EventType.CONVERSATION_STATUS).data["after"] == "open"
    assert all(e.actor_id == sato.pk for e in seen.events)
    assert seen.told == []  # replying tells nobody; taking it oneself neither
    after = _fresh(conv)
    assert (after.message_count, after.waiting_since, after.status) == (2, None, "open")
    assert after.last_activity_at == message.received_at
    assert message.outbox.status == "queued"


def test_queue_reply_then_done_on_a_colleagues_conversation(conv, sato, boss):
    conversations.assign_conversation(conv, assignee_id=boss.pk, actor_id=boss.pk)
    with verify_action() as seen:
        actions.queue_reply(conv, author=sato, text="完了です。", to=[CUSTOMER], then=Status.DONE)
    assert seen.types == ["message.queued", "conversation.status"]
    assert seen.one(EventType.CONVERSATION_STATUS).data == {"before": "open", "after": "done",
                                                           "reason": ""}  # fmt: skip
    assert seen.told == []
    assert _fresh(conv).assignee_id == boss.pk  # it stays theirs


def test_a_held_reply_asks_the_reviewers_and_the_customer_still_waits(mailbox, conv, sato, boss):
    waiting = conv.waiting_since
    update_mailbox(mailbox, replies_need_approval=True)
    with verify_action() as seen:
        message = actions.queue_reply(
            conv, author=sato, text="本文", to=[CUSTOMER], then=Status.DONE
        )
    assert seen.types == ["approval.requested", "notification.created", "conversation.assigned",
                          "conversation.status"]  # fmt: skip
    assert seen.one(EventType.APPROVAL_REQUESTED).data == {"message": message.pk}
    assert seen.told == [(boss.pk, "asked")]
    assert seen.one(EventType.CONVERSATION_STATUS).data["after"] == "open"  # "done" waits
    after = _fresh(conv)
    assert (after.message_count, after.waiting_since, after.status) == (2, waiting, "open")
    assert message.outbox.status == "approval" and message.outbox.then_status == "done"


def test_queue_forward_is_a_queued_message_of_the_conversation(conv, sato):
    conversations.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    source = conv.messages.get()
    with verify_action() as seen:
        message = actions.queue_forward(conv, author=sato, source=source, text="ご確認ください。",
                                        to=[Address("", "keiri@example.jp")])  # fmt: skip
    assert seen.types == ["message.queued"]
    assert seen.one(EventType.MESSAGE_QUEUED).data == {"message": message.pk}
    assert message.subject == "Fwd: 請求書の件" and message.conversation_id == conv.pk
    assert _fresh(conv).message_count == 2


def test_start_conversation_starts_and_queues(mailbox, sato):
    with verify_action() as seen:
        message = actions.start_conversation(mailbox, author=sato, subject="新製品のご案内",
                                             text="ご案内します。", to=[CUSTOMER])  # fmt: skip
    assert seen.types == ["conversation.started", "message.queued"]
    assert {e.conversation_id for e in seen.events} == {message.conversation_id}
    conv = Conversation.objects.get(pk=message.conversation_id)
    assert (conv.status, conv.assignee_id, conv.message_count) == ("open", sato.pk, 1)
    assert conv.waiting_since is None and conv.contact is not None


def test_cancel_takes_the_reply_back_and_restores_the_conversation(conv, sato):
    waiting = conv.waiting_since
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER], then=Status.DONE)
    with verify_action() as seen:
        assert actions.cancel(message, actor=sato)
    assert seen.types == ["message.cancelled", "conversation.status"]
    assert seen.one(EventType.MESSAGE_CANCELLED).data == {"message": message.pk}
    assert seen.one(EventType.CONVERSATION_STATUS).data["after"] == "new"
    after = _fresh(conv)
    assert (after.message_count, after.status, after.waiting_since) == (1, "new", waiting)
    with verify_action() as again:
        assert not actions.cancel(message, actor=sato)
    assert again.types == []


def test_approve_sends_it_and_tells_the_author(mailbox, conv, sato, boss):
    message = _held(mailbox, conv, sato, then=Status.DONE)
    with verify_action() as seen:
        assert actions.approve(message, reviewer=boss) == actions.Approval.APPROVED
    assert seen.types == ["approval.approved", "notification.created", "conversation.status"]
    assert seen.one(EventType.APPROVAL_APPROVED).data == {"message": message.pk, "edited": False}
    assert seen.one(EventType.CONVERSATION_STATUS).data["after"] == "done"
    assert all(e.actor_id == boss.pk for e in seen.events)
    assert seen.told == [(sato.pk, "approved")]
    after = _fresh(conv)
    assert (after.message_count, after.waiting_since, after.status) == (2, None, "done")
    assert Outbox.objects.get(message=message).status == "queued"


def test_send_back_returns_the_text_and_tells_the_author(mailbox, conv, sato, boss):
    message = _held(mailbox, conv, sato, then=None)
    waiting = _fresh(conv).waiting_since
    with verify_action() as seen:
        assert actions.send_back(message, reviewer=boss, comment="送料に触れてください")
    assert seen.types == ["note.added", "approval.returned", "notification.created"]
    note = seen.one(EventType.NOTE_ADDED).data["note"]
    assert seen.one(EventType.APPROVAL_RETURNED).data == {"message": message.pk, "note": note}
    assert seen.told == [(sato.pk, "returned")]
    after = _fresh(conv)
    assert (after.message_count, after.waiting_since) == (1, waiting)
    assert Draft.objects.get(conversation=conv, author=sato).text == "お見積もりです。"
    with verify_action() as again:
        assert not actions.send_back(message, reviewer=boss, comment="もう一度")
    assert again.types == []


def test_deliver_records_sent(conv, sato, smtp_capture):
    _, handler = smtp_capture
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER])
    with verify_action() as seen:
        assert actions.deliver(message.outbox.pk) == "sent"
    assert seen.types == ["message.sent"]
    assert seen.events[0].data == {"message": message.pk}
    assert [m.rcpts for m in handler.received] == [[CUSTOMER.email]]


def test_deliver_records_a_retry_on_a_temporary_failure(conv, sato, smtp_capture):
    _, handler = smtp_capture
    handler.answers.append("451 4.3.0 try again later")
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER])
    with verify_action() as seen:
        assert actions.deliver(message.outbox.pk) == "retrying"
    assert seen.types == ["message.retrying"]
    data = seen.events[0].data
    assert (data["message"], data["attempt"]) == (message.pk, 1) and "451" in data["error"]


def test_deliver_records_a_failure_on_a_permanent_one(conv, sato, smtp_capture):
    _, handler = smtp_capture
    handler.answers.append("550 5.7.1 relaying denied")
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER])
    with verify_action() as seen:
        assert actions.deliver(message.outbox.pk) == "failed"
    assert seen.types == ["message.failed"]
    assert seen.events[0].data["message"] == message.pk
    assert "550 5.7.1 relaying denied" in seen.events[0].data["error"]
    assert _fresh(conv).message_count == 2  # it was written: it stays, marked failed
