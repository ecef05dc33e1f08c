"""Threading rules, in their order, with out-of-order arrival and forged tokens."""

from __future__ import annotations

import pytest
from django.conf import settings

from madoguchi.conversations.models import Conversation, Message
from madoguchi.mail.tokens import make_message_id
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


def our_id(conv: Conversation, message_pk: int = 999) -> str:
    return make_message_id(
        settings.SECRET_KEY.encode(),
        conversation_id=conv.pk,
        message_id=message_pk,
        domain="example.jp",
    )


def test_reply_joins_by_in_reply_to(mailbox):
    """A reply naming the first mail in In-Reply-To joins its conversation."""
    first = deliver(mailbox, make_mail(message_id="1@c.example"))
    reply = deliver(mailbox, make_mail(message_id="2@c.example", in_reply_to="1@c.example"))
    assert reply.conversation_id == first.conversation_id
    assert reply.thread_rule == "in_reply_to"


def test_reply_joins_by_references_when_in_reply_to_is_unknown(mailbox):
    """References are searched newest first when In-Reply-To names nothing we have."""
    first = deliver(mailbox, make_mail(message_id="1@c.example"))
    reply = deliver(
        mailbox,
        make_mail(
            message_id="3@c.example",
            in_reply_to="lost@c.example",
            references=["1@c.example", "lost@c.example"],
        ),
    )
    assert reply.conversation_id == first.conversation_id
    assert reply.thread_rule == "references"


def test_reply_to_our_signed_message_id_joins_its_conversation(mailbox):
    """Our own signed Message-ID places the reply even without any other match."""
    conv = deliver(mailbox, make_mail(message_id="1@c.example")).conversation
    reply = deliver(
        mailbox, make_mail(subject="Re: x", message_id="4@c.example", in_reply_to=our_id(conv))
    )
    assert reply.conversation_id == conv.pk
    assert reply.thread_rule == "token"


def test_forged_token_joins_nothing(mailbox):
    """A token with a wrong signature starts a new conversation."""
    conv = deliver(mailbox, make_mail(message_id="1@c.example")).conversation
    real = our_id(conv)
    forged = real.replace(real.split(".")[3].split("@")[0], "0" * 16)
    reply = deliver(mailbox, make_mail(message_id="5@c.example", in_reply_to=forged))
    assert reply.conversation_id != conv.pk
    assert reply.thread_rule == "new"


def test_subject_tag_joins_for_the_same_customer(mailbox):
    """A ticket tag [#N] in the subject joins conversation N for its customer."""
    conv = deliver(mailbox, make_mail(message_id="1@c.example")).conversation
    again = deliver(mailbox, make_mail(subject=f"Re: [#{conv.pk}] order", message_id="6@c.example"))
    assert again.conversation_id == conv.pk
    assert again.thread_rule == "subject_tag"


def test_subject_tag_from_another_customer_starts_new(mailbox):
    """Another customer quoting someone's ticket number does not join it."""
    conv = deliver(mailbox, make_mail(message_id="1@c.example")).conversation
    other = deliver(
        mailbox,
        make_mail(subject=f"[#{conv.pk}]", sender="eve@evil.example", message_id="7@evil.example"),
    )
    assert other.conversation_id != conv.pk


def test_same_subject_from_different_customers_stays_apart(mailbox):
    """Subjects alone never join mail of different customers."""
    a = deliver(mailbox, make_mail(subject="見積もりの件", sender="a@one.example"))
    b = deliver(mailbox, make_mail(subject="見積もりの件", sender="b@two.example"))
    assert a.conversation_id != b.conversation_id


def test_reply_arriving_before_its_parent_is_joined_when_parent_arrives(mailbox):
    """Out of order: the parent, arriving later, joins the reply's conversation."""
    reply = deliver(
        mailbox,
        make_mail(message_id="r@c.example", in_reply_to="p@c.example", references=["p@c.example"]),
    )
    parent = deliver(mailbox, make_mail(message_id="p@c.example"))
    assert parent.conversation_id == reply.conversation_id
    assert parent.thread_rule == "late_parent"
    assert Conversation.objects.count() == 1


def test_early_reply_is_merged_when_parent_threads_elsewhere(mailbox):
    """A late parent that itself continues a thread pulls the early reply's conversation in."""
    root = deliver(mailbox, make_mail(message_id="root@c.example"))
    early = deliver(
        mailbox,
        make_mail(
            message_id="c2@c.example", in_reply_to="c1@c.example", references=["c1@c.example"]
        ),
    )
    assert early.conversation_id != root.conversation_id
    deliver(
        mailbox,
        make_mail(
            message_id="c1@c.example", in_reply_to="root@c.example", references=["root@c.example"]
        ),
    )
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(conversation=root.conversation_id).count() == 3
    assert Conversation.objects.get().message_count == 3


def test_out_of_order_within_one_import_batch(mailbox, tmp_path):
    """An import whose files hold replies before their parents still makes one thread."""
    from madoguchi.mail_in.importer import import_paths

    mails = [
        make_mail(message_id="t3@c.example", in_reply_to="t2@c.example",
                  references=["t1@c.example", "t2@c.example"]),
        make_mail(message_id="t2@c.example", in_reply_to="t1@c.example",
                  references=["t1@c.example"]),
        make_mail(message_id="t1@c.example"),
        make_mail(message_id="other@c.example", sender="someone@else.example"),
    ]  # fmt: skip
    for i, data in enumerate(mails):
        (tmp_path / f"{i}.eml").write_bytes(data)
    summary = import_paths(mailbox, [tmp_path])
    assert summary.stored == 4
    convs = dict(Message.objects.values_list("message_id", "conversation_id"))
    assert convs["t1@c.example"] == convs["t2@c.example"] == convs["t3@c.example"]
    assert convs["other@c.example"] != convs["t1@c.example"]
    assert Conversation.objects.get(pk=convs["t1@c.example"]).message_count == 3


def test_reply_in_a_later_batch_joins_the_thread_of_an_earlier_batch(mailbox, tmp_path):
    """Threading reads what earlier batches stored, not only the batch at hand."""
    from madoguchi.mail_in.importer import import_paths

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "1.eml").write_bytes(make_mail(message_id="b1@c.example"))
    (tmp_path / "b" / "2.eml").write_bytes(
        make_mail(message_id="b2@c.example", in_reply_to="b1@c.example")
    )
    import_paths(mailbox, [tmp_path / "a"])
    import_paths(mailbox, [tmp_path / "b"])
    assert Conversation.objects.count() == 1
