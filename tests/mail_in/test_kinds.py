"""Automated mail at intake (the envelope our listener saw, a person writing in) and
``reclassify`` for mail stored by older versions.

The pages that show and correct it are in tests/web/test_classification.py."""

from __future__ import annotations

import pytest

from madoguchi.conversations.models import Conversation, Message
from madoguchi.core.models import Event
from madoguchi.mail_in import actions
from madoguchi.mail_in.kinds import reclassify
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.types import RawInbound
from tests.factories import make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

AUTO = {"Auto-Submitted": "auto-replied"}


def _auto(team, n: int = 1, sender: str = "Bot <bot@vendor.example>") -> Conversation:
    return make_conversation(team["support"], subject=f"Re: 注文 {n}", sender=sender,
                             message_id=f"a{n}@vendor.example", headers=AUTO)  # fmt: skip


def _person(team, subject: str, message_id: str) -> Conversation:
    return make_conversation(team["support"], subject=subject, message_id=message_id)


def _hide(conv: Conversation) -> None:
    """What older versions did: a customer's mail classified by its subject."""
    Message.objects.filter(conversation=conv).update(kind="bounce")
    Conversation.objects.filter(pk=conv.pk).update(kind="bounce")


def test_a_person_writing_into_an_automated_conversation_brings_it_back(team):
    conv = _auto(team)
    reply = make_mail(
        subject="Re: 注文 1", sender="Yamada <taro@customer.example>",
        in_reply_to="a1@vendor.example", message_id="p1@customer.example",
    )  # fmt: skip
    deliver(team["support"], reply)
    conv.refresh_from_db()
    assert conv.kind == "normal"
    assert Event.objects.filter(type="conversation.kind", conversation=conv,
                                data__reason="person").exists()  # fmt: skip


def test_null_envelope_from_our_listener_makes_a_bounce(team):
    """MAIL FROM:<> seen by the LMTP listener, with a postmaster sender, is a bounce."""
    data = make_mail(subject="Undeliverable: 注文", sender="postmaster@mx.example.jp")
    raw, _ = actions.accept(team["support"], RawInbound(data=data, source="lmtp",
                            envelope_from=""), schedule=False)  # fmt: skip
    (message,) = actions.ingest_safely([RawMessage.objects.get(pk=raw.pk)])
    assert message.kind == "bounce"
    # The same bytes fetched over IMAP (no envelope seen) stay with a person.
    other = actions.accept(team["sales"], RawInbound(data=data, source="imap"), schedule=False)[0]
    (message,) = actions.ingest_safely([RawMessage.objects.get(pk=other.pk)])
    assert message.kind == "normal"


def test_reclassify_moves_wrongly_hidden_mail_back(team):
    hidden = _person(team, "返品の返送先を教えてください", "h1@customer.example")
    handled = _person(team, "不在連絡票が入っていました", "h2@customer.example")
    really = _auto(team)
    _hide(hidden)
    _hide(handled)
    Conversation.objects.filter(pk=handled.pk).update(status="done")
    changes, moved = reclassify(dry_run=True)
    assert {c.message_id for c in changes} == {hidden.messages.get().pk, handled.messages.get().pk}
    assert [c.pk for c in moved] == [hidden.pk]
    assert Conversation.objects.get(pk=hidden.pk).kind == "bounce"  # dry run stored nothing
    changes, moved = reclassify()
    assert [c.pk for c in moved] == [hidden.pk]
    assert Conversation.objects.get(pk=hidden.pk).kind == "normal"
    assert Conversation.objects.get(pk=handled.pk).kind == "bounce"  # a person closed it
    assert Conversation.objects.get(pk=really.pk).kind == "auto_reply"
    assert Message.objects.get(conversation=handled).kind == "normal"
    assert Event.objects.filter(type="conversation.kind", conversation=hidden,
                                data__reason="reclassified").exists()  # fmt: skip


def test_reclassify_command_prints_what_it_moved(team, cli):
    conv = deliver(team["support"], make_mail(subject="配送エラーと表示されます")).conversation
    _hide(conv)
    dry = cli("mail", "reclassify", "--mailbox", "support@example.jp", "--dry-run")
    assert dry.returncode == 0 and f"would move #{conv.pk} back to new mail" in dry.stdout
    assert Conversation.objects.get(pk=conv.pk).kind == "bounce"
    done = cli("mail", "reclassify")
    assert done.returncode == 0 and f"moved #{conv.pk} back to new mail" in done.stdout
    assert Conversation.objects.get(pk=conv.pk).kind == "normal"
    assert cli("mail", "reclassify", "--mailbox", "nobody@example.jp").returncode == 1
