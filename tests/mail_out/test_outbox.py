"""The durable outbox against a real SMTP server: send, retry, fail, undo, thread back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.conversations.models import Conversation
from madoguchi.core.models import Event
from madoguchi.mail import Address, parse
from madoguchi.mail_out import actions
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes.models import Mailbox
from tests.factories import CUSTOMER, make_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def mailbox(transactional_db: None, smtp_capture) -> Mailbox:
    """Sends to a real (capturing) SMTP server, after a 30 s undo window, signed."""
    ctl, _ = smtp_capture
    return make_mailbox(smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none",
                        undo_seconds=30, signature="東京商事サポート")  # fmt: skip


@pytest.fixture
def setup(mailbox, sato, conv, smtp_capture):
    return mailbox, sato, conv, smtp_capture[1]


def due(message) -> None:
    Outbox.objects.filter(message=message).update(send_after=timezone.now() - timedelta(seconds=1))


def test_reply_waits_for_the_undo_window(setup):
    """A queued reply is not sent before its undo window ends; replying took the conversation."""
    mailbox, sato, conv, handler = setup
    message = actions.queue_reply(
        conv, author=sato, text="お見積もりをお送りします。", to=[CUSTOMER]
    )
    assert Conversation.objects.get(pk=conv.pk).status == "open"
    assert actions.deliver(message.outbox.pk) == "not yet"
    assert handler.received == []


def test_reply_goes_out_from_the_shared_address_and_threads(setup):
    """The sent mail names the shared address and the thread; the customer's answer joins."""
    mailbox, sato, conv, handler = setup
    message = actions.queue_reply(
        conv, author=sato, text="お見積もりをお送りします。", to=[CUSTOMER]
    )
    due(message)
    assert actions.deliver(message.outbox.pk) == "sent"
    [sent] = handler.received
    assert sent.mail_from == "support@example.jp" and sent.rcpts == [CUSTOMER.email]
    mail = parse(sent.data)
    assert mail.sender == Address("佐藤 花子 (サポート窓口)", "support@example.jp")
    assert mail.in_reply_to == "c1@tokyo-shoji.example"
    assert mail.references == ["c1@tokyo-shoji.example"]
    assert mail.message_id == message.message_id and mail.message_id.startswith("mdg.")
    assert "東京商事サポート" in mail.text  # the mailbox signature
    answer = deliver(
        mailbox,
        make_mail(
            sender=str(CUSTOMER), subject="ありがとうございます", in_reply_to=mail.message_id
        ),
    )
    assert answer.conversation_id == conv.pk and answer.thread_rule == "token"


def test_temporary_failure_is_retried_with_backoff(setup):
    """A 451 keeps the mail queued for a later attempt; the next attempt sends it."""
    mailbox, sato, conv, handler = setup
    handler.answers.append("451 4.3.0 try again later")
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER])
    due(message)
    assert actions.deliver(message.outbox.pk) == "retrying"
    outbox = Outbox.objects.get(message=message)
    assert outbox.status == "queued" and outbox.attempts == 1 and "451" in outbox.last_error
    assert outbox.send_after > timezone.now()
    due(message)
    assert actions.deliver(message.outbox.pk) == "sent"
    assert len(handler.received) == 1


def test_permanent_failure_keeps_the_server_answer(setup):
    """A 550 marks the reply failed, with what the server said, on the conversation."""
    mailbox, sato, conv, handler = setup
    handler.answers.append("550 5.7.1 relaying denied")
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER])
    due(message)
    assert actions.deliver(message.outbox.pk) == "failed"
    assert "550 5.7.1 relaying denied" in Outbox.objects.get(message=message).last_error
    assert Event.objects.filter(conversation=conv, type="message.failed").exists()


def test_undo_takes_the_reply_back(setup):
    """Undo within the window: nothing is sent and the status goes back."""
    mailbox, sato, conv, handler = setup
    message = actions.queue_reply(conv, author=sato, text="本文", to=[CUSTOMER], then="done")
    assert Conversation.objects.get(pk=conv.pk).status == "done"
    assert actions.cancel(message, actor=sato)
    due(message)
    assert actions.deliver(message.outbox.pk) == "nothing to do"
    assert handler.received == []
    assert Conversation.objects.get(pk=conv.pk).status == "new"
    assert not actions.cancel(message, actor=sato)  # only once


def test_reply_all_copies_the_other_recipients_but_not_ourselves(setup):
    """Reply all: To the sender, Cc everyone else on the mail except the shared address."""
    mailbox, sato, conv, handler = setup
    deliver(
        mailbox,
        make_mail(
            sender=str(CUSTOMER),
            to="support@example.jp, boss@tokyo-shoji.example",
            message_id="q2@tokyo-shoji.example",
            in_reply_to="c1@tokyo-shoji.example",
        ),
    )
    to, cc = actions.reply_recipients(Conversation.objects.get(pk=conv.pk), reply_all=True)
    assert [a.email for a in to] == [CUSTOMER.email]
    assert [a.email for a in cc] == ["boss@tokyo-shoji.example"]


def test_a_reply_whose_delivery_task_was_lost_is_sent_after_a_restart(setup):
    """The process died between commit and enqueue (or a worker died holding the task):
    the worker's start enqueues overdue queued mail again, and it goes out once."""
    from django_tasks_db.models import DBTaskResult

    mailbox, sato, conv, handler = setup
    message = actions.queue_reply(conv, author=sato, text="再送のお知らせ", to=[CUSTOMER])
    DBTaskResult.objects.all().delete()  # the task is lost
    Outbox.objects.filter(message=message).update(
        send_after=timezone.now() - actions.OVERDUE - timedelta(seconds=5)
    )
    assert actions.deliver_overdue() == 1
    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["args"] == [message.outbox.pk]
    assert actions.deliver(message.outbox.pk) == "sent"
    assert actions.deliver(message.outbox.pk) == "nothing to do"  # the first task, late
    assert len(handler.received) == 1
    assert actions.deliver_overdue() == 0
