"""Durable, idempotent ingest of raw mail."""

from __future__ import annotations

import pytest

from madoguchi.conversations.models import Conversation, Message
from madoguchi.core.models import Event
from madoguchi.mail_in import actions, threading
from madoguchi.mail_in.models import RawMessage, RawStatus
from madoguchi.mail_in.types import RawInbound
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


def test_accept_stores_bytes_as_pending(mailbox):
    """accept() keeps the exact bytes and leaves them pending for the ingest task."""
    data = make_mail()
    raw, created = actions.accept(mailbox, RawInbound(data=data, source="lmtp"), schedule=False)
    assert created
    stored = RawMessage.objects.get(pk=raw.pk)
    assert bytes(stored.data) == data
    assert stored.status == RawStatus.PENDING


def test_same_bytes_twice_make_one_raw_row(mailbox):
    """Delivering identical bytes again is recognised and stores nothing new."""
    data = make_mail()
    first, _ = actions.accept(mailbox, RawInbound(data=data, source="lmtp"), schedule=False)
    second, created = actions.accept(mailbox, RawInbound(data=data, source="imap"), schedule=False)
    assert not created and first.pk == second.pk
    assert RawMessage.objects.count() == 1


def test_ingest_makes_conversation_message_and_events(mailbox):
    """A new mail becomes a conversation in status new, with its received event."""
    message = deliver(
        mailbox, make_mail(subject="納期について", body="東京本社への納期を教えてください。\n")
    )
    assert message is not None
    conv = message.conversation
    assert conv.subject == "納期について"
    assert conv.status == "new"
    assert conv.message_count == 1
    assert (
        conv.contact is not None and conv.contact.addresses.get().email == "taro@customer.example"
    )
    assert message.thread_rule == "new"
    assert message.raw.status == RawStatus.DONE
    types = set(Event.objects.filter(conversation=conv).values_list("type", flat=True))
    assert {"conversation.created", "message.received"} <= types


def test_same_message_id_with_other_bytes_is_one_message(mailbox):
    """The same mail arriving twice with different trace headers makes one message."""
    data = make_mail(message_id="dup@customer.example")
    deliver(mailbox, data)
    again = (
        b"Received: from relay.example by mx.example.jp; Mon, 23 Nov 2026 10:01:00 +0000\r\n" + data
    )
    assert deliver(mailbox, again) is None
    assert Message.objects.count() == 1
    assert RawMessage.objects.filter(status=RawStatus.DUPLICATE).count() == 1


def test_mail_without_message_id_is_deduplicated_by_content(mailbox):
    """Without a Message-ID, the same content delivered twice still makes one message."""
    data = make_mail().replace(b"Message-ID:", b"X-Old-Message-ID:")
    deliver(mailbox, data)
    deliver(
        mailbox, b"Received: from a.example by b.example; Mon, 23 Nov 2026 10:01:00 +0000\n" + data
    )
    assert Message.objects.count() == 1


def test_failed_ingest_is_kept_and_can_be_retried(mailbox, monkeypatch):
    """A mail whose threading fails is marked failed with the reason, and retry completes it."""

    def broken(*args, **kwargs):
        raise RuntimeError("threading exploded")

    monkeypatch.setattr(threading, "place", broken)
    assert deliver(mailbox, make_mail()) is None
    raw = RawMessage.objects.get()
    assert raw.status == RawStatus.FAILED and "threading exploded" in raw.error
    assert Event.objects.filter(type="ingest.failed").exists()
    monkeypatch.undo()
    assert actions.retry([raw.pk]) == 1
    raw.refresh_from_db()
    assert raw.status == RawStatus.DONE
    assert Conversation.objects.count() == 1


def test_customer_reply_reopens_done_conversation(mailbox):
    """A customer's reply to a done conversation puts it back among the new ones."""
    first = deliver(mailbox, make_mail(message_id="a@customer.example"))
    Conversation.objects.filter(pk=first.conversation_id).update(status="done")
    deliver(mailbox, make_mail(message_id="b@customer.example", in_reply_to="a@customer.example"))
    conv = Conversation.objects.get(pk=first.conversation_id)
    assert conv.status == "new" and conv.message_count == 2
    assert Event.objects.filter(conversation=conv, type="conversation.status").exists()


def test_attachments_are_stored_once_by_content(mailbox):
    """Two mails with the same attachment keep one blob; each message lists it."""
    from email.message import EmailMessage

    from madoguchi.core import blobs

    def with_attachment(mid: str) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@b.example", "support@example.jp", "見積書"
        msg["Message-ID"] = f"<{mid}>"
        msg.set_content("添付します。")
        msg.add_attachment(
            b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="見積書.pdf"
        )
        return msg.as_bytes()

    one = deliver(mailbox, with_attachment("x1@b.example"))
    two = deliver(mailbox, with_attachment("x2@b.example"))
    a, b = one.attachments.get(), two.attachments.get()
    assert a.filename == "見積書.pdf" and a.sha256 == b.sha256
    assert blobs.read(a.sha256) == b"%PDF-1.4 quote"
