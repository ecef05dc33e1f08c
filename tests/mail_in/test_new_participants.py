"""Mail from someone not yet in a conversation joins it, marked, and never picks the reply's
recipient (conversations/participants.py)."""

from __future__ import annotations

import pytest

from madoguchi.conversations.models import Message
from madoguchi.conversations.queries import newcomers
from madoguchi.mail_out.actions import queue_reply, reply_recipients
from tests.factories import make_agent
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

CUSTOMER = "田中 一郎 <tanaka@tokyo-shoji.example>"


@pytest.fixture
def first(mailbox) -> Message:
    """The customer's first mail, with a colleague in Cc."""
    mail = make_mail(sender=CUSTOMER, subject="見積もりの件", message_id="q1@tokyo-shoji.example",
                     headers={"Cc": "部長 <bucho@tokyo-shoji.example>"})  # fmt: skip
    message = deliver(mailbox, mail)
    assert message is not None and not message.new_participant
    return message


def _to(conv) -> list[str]:
    return [a.email for a in reply_recipients(conv, reply_all=False)[0]]


def test_a_stranger_who_knows_a_message_id_joins_but_gets_no_reply(mailbox, first):
    """The In-Reply-To of a forwarded mail lets a stranger in; the reply stays the customer's."""
    stranger = deliver(mailbox, make_mail(
        sender="悪い人 <mallory@evil.example>", subject="Re: 見積もりの件",
        in_reply_to="q1@tokyo-shoji.example", body="振込先が変わりました\n",
    ))  # fmt: skip
    assert stranger is not None
    assert stranger.conversation_id == first.conversation_id  # it still joins
    assert stranger.new_participant
    conv = first.conversation
    assert _to(conv) == ["tanaka@tokyo-shoji.example"]
    assert reply_recipients(conv, reply_all=True)[1][0].email == "bucho@tokyo-shoji.example"
    assert newcomers(conv) == ["mallory@evil.example"]


def test_a_colleague_in_cc_joins_as_a_participant(mailbox, first):
    colleague = deliver(mailbox, make_mail(
        sender="部長 <bucho@tokyo-shoji.example>", subject="Re: 見積もりの件",
        in_reply_to="q1@tokyo-shoji.example",
        headers={"Cc": CUSTOMER},
    ))  # fmt: skip
    assert colleague is not None and not colleague.new_participant
    assert colleague.conversation_id == first.conversation_id
    assert _to(first.conversation) == ["bucho@tokyo-shoji.example"]


def test_a_newcomer_becomes_a_participant_once_an_agent_writes_to_them(mailbox, first):
    from madoguchi.mail import Address

    agent = make_agent("sato", mailboxes=[mailbox])
    forwarded = make_mail(sender="経理 <keiri@tokyo-shoji.example>", subject="Re: 見積もりの件",
                          in_reply_to="q1@tokyo-shoji.example")  # fmt: skip
    assert deliver(mailbox, forwarded).new_participant  # type: ignore[union-attr]
    conv = first.conversation
    queue_reply(conv, author=agent.user, text="承知しました",
                to=[Address("経理", "keiri@tokyo-shoji.example")])  # fmt: skip
    again = deliver(mailbox, make_mail(sender="経理 <keiri@tokyo-shoji.example>",
                                       subject="Re: 見積もりの件",
                                       in_reply_to="q1@tokyo-shoji.example"))  # fmt: skip
    assert again is not None and not again.new_participant
    assert newcomers(conv) == []


def test_a_newcomers_cc_and_reply_to_establish_nobody(mailbox, first):
    deliver(mailbox, make_mail(
        sender="mallory@evil.example", subject="Re: 見積もりの件",
        in_reply_to="q1@tokyo-shoji.example", message_id="m1@evil.example",
        headers={"Cc": "accomplice@evil.example"},
    ))  # fmt: skip
    second = deliver(mailbox, make_mail(
        sender="accomplice@evil.example", subject="Re: 見積もりの件",
        in_reply_to="m1@evil.example",
    ))  # fmt: skip
    assert second is not None and second.new_participant
    assert _to(first.conversation) == ["tanaka@tokyo-shoji.example"]


def test_a_reply_to_pointing_at_someone_new_does_not_pick_the_recipient(mailbox, first):
    """Mail that looks like the customer's but answers elsewhere is marked too."""
    looks_like = deliver(mailbox, make_mail(
        sender=CUSTOMER, subject="Re: 見積もりの件", in_reply_to="q1@tokyo-shoji.example",
        headers={"Reply-To": "mallory@evil.example"},
    ))  # fmt: skip
    assert looks_like is not None and looks_like.new_participant
    assert _to(first.conversation) == ["tanaka@tokyo-shoji.example"]


def test_the_customers_own_answers_are_never_marked(mailbox, first):
    answer = deliver(mailbox, make_mail(sender=CUSTOMER, subject="Re: 見積もりの件",
                                        in_reply_to="q1@tokyo-shoji.example"))  # fmt: skip
    assert answer is not None and not answer.new_participant
    assert _to(first.conversation) == ["tanaka@tokyo-shoji.example"]


def test_one_import_batch_marks_a_stranger_after_the_first_mail(mailbox, tmp_path):
    """Within one batch the first mail of a new conversation sets its participants."""
    from madoguchi.mail_in.importer import import_paths

    mails = [
        make_mail(sender=CUSTOMER, message_id="b1@c.example"),
        make_mail(sender="mallory@evil.example", in_reply_to="b1@c.example",
                  message_id="b2@evil.example"),
    ]  # fmt: skip
    for i, data in enumerate(mails):
        (tmp_path / f"{i}.eml").write_bytes(data)
    assert import_paths(mailbox, [tmp_path]).stored == 2
    marks = dict(Message.objects.values_list("message_id", "new_participant"))
    assert marks == {"b1@c.example": False, "b2@evil.example": True}
    assert len(set(Message.objects.values_list("conversation_id", flat=True))) == 1
