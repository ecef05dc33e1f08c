"""Ingest (``conversations.actions.receive_messages`` and ``merge_into`` underneath): exactly
the events a batch records, and the notifications they make, batched for the whole batch."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import Conversation, Message, Status
from madoguchi.core.event_types import EventType
from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.models import Notification
from tests.conversations.verify import verify_action
from tests.factories import make_agent
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db
CUSTOMER = "田中 一郎 <tanaka@tokyo-shoji.example>"


@pytest.fixture
def sato(mailbox: Mailbox) -> User:
    return make_agent("sato", mailboxes=[mailbox]).user


def _mail(mid: str, *, reply_to: str | None = None, headers: dict[str, str] | None = None) -> bytes:
    return make_mail(sender=CUSTOMER, subject="見積もり", message_id=mid, in_reply_to=reply_to,
                     headers=headers)  # fmt: skip


def _first(mailbox: Mailbox, mid: str) -> Conversation:
    message = deliver(mailbox, _mail(mid))
    assert message is not None
    return Conversation.objects.get(pk=message.conversation_id)


def _ingest(mailbox: Mailbox, mails: list[bytes]) -> list[Message]:
    """One ingest batch, as an import or ``fetch --once`` makes it."""
    accepted = actions.accept_many(mailbox, [RawInbound(m, "import") for m in mails],
                                   schedule=False)  # fmt: skip
    ids = [row.pk for row, _ in accepted]
    raws = list(RawMessage.objects.select_related("mailbox").filter(pk__in=ids).order_by("pk"))
    return actions.ingest(raws)


def test_a_new_mail_creates_a_conversation_and_tells_nobody(mailbox, sato):
    with verify_action() as seen:
        message = deliver(mailbox, _mail("n1@tokyo-shoji.example"))
    assert message is not None
    assert seen.types == ["conversation.created", "message.received"]
    assert seen.one(EventType.MESSAGE_RECEIVED).data == {"message": message.pk, "rule": "new",
                                                        "kind": "normal"}  # fmt: skip
    assert {e.conversation_id for e in seen.events} == {message.conversation_id}
    assert seen.told == []


def test_a_reply_reopens_a_done_conversation_and_tells_its_assignee(mailbox, sato):
    conv = _first(mailbox, "r1@tokyo-shoji.example")
    conversations.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    conversations.change_status(conv, Status.DONE, actor_id=sato.pk)
    with verify_action() as seen:
        message = deliver(
            mailbox, _mail("r2@tokyo-shoji.example", reply_to="r1@tokyo-shoji.example")
        )
    assert message is not None and message.conversation_id == conv.pk
    assert seen.types == ["conversation.status", "message.received", "notification.created"]
    assert seen.one(EventType.CONVERSATION_STATUS).data == {
        "before": "done", "after": "open", "reason": "customer replied"
    }  # fmt: skip
    assert seen.one(EventType.MESSAGE_RECEIVED).data == {
        "message": message.pk, "rule": "in_reply_to", "kind": "normal", "reply": True
    }  # fmt: skip
    assert seen.told == [(sato.pk, "replied")]
    assert seen.notifications[0].actor_id is None


def test_a_reply_to_an_unassigned_conversation_tells_nobody(mailbox, sato):
    conv = _first(mailbox, "u1@tokyo-shoji.example")
    with verify_action() as seen:
        deliver(mailbox, _mail("u2@tokyo-shoji.example", reply_to="u1@tokyo-shoji.example"))
    assert seen.types == ["message.received"]
    assert seen.events[0].conversation_id == conv.pk and seen.events[0].data["reply"] is True
    assert seen.told == []


def test_a_persons_reply_brings_an_automated_conversation_back(mailbox):
    auto = {"Auto-Submitted": "auto-replied"}
    conv = _first(mailbox, "a1@tokyo-shoji.example")
    Conversation.objects.filter(pk=conv.pk).update(kind="auto_reply")  # as if it were one
    deliver(mailbox, _mail("a2@tokyo-shoji.example", reply_to="a1@tokyo-shoji.example",
                           headers=auto))  # fmt: skip
    assert Conversation.objects.get(pk=conv.pk).kind == "auto_reply"
    with verify_action() as seen:
        deliver(mailbox, _mail("a3@tokyo-shoji.example", reply_to="a2@tokyo-shoji.example"))
    assert seen.types == ["conversation.kind", "message.received"]
    assert seen.one(EventType.CONVERSATION_KIND).data == {
        "before": "auto_reply", "after": "normal", "reason": "person"
    }  # fmt: skip


def test_a_batch_tells_each_assignee_once_in_one_insert(mailbox, sato):
    """Replies to two conversations (two to one of them) and a new mail in one batch: one
    notification per conversation, written in one insert."""
    first = _first(mailbox, "b1@tokyo-shoji.example")
    second = _first(mailbox, "b2@tokyo-shoji.example")
    for conv in (first, second):
        conversations.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    batch = [
        _mail("b3@tokyo-shoji.example", reply_to="b1@tokyo-shoji.example"),
        _mail("b4@tokyo-shoji.example", reply_to="b2@tokyo-shoji.example"),
        _mail("b5@tokyo-shoji.example", reply_to="b3@tokyo-shoji.example"),
        _mail("b6@tokyo-shoji.example"),
    ]
    with verify_action() as seen, CaptureQueriesContext(connection) as queries:
        messages = _ingest(mailbox, batch)
    assert len(messages) == 4
    assert seen.types == ["conversation.created", *["message.received"] * 4,
                          *["notification.created"] * 2]  # fmt: skip
    replies = [e for e in seen.events if e.data.get("reply")]
    assert [e.conversation_id for e in replies] == [first.pk, second.pk, first.pk]
    assert sorted(n.conversation_id or 0 for n in seen.notifications) == [first.pk, second.pk]
    assert {kind for _, kind in seen.told} == {"replied"}
    inserts = [q for q in queries.captured_queries
               if q["sql"].startswith('INSERT INTO "notifications_notification"')]  # fmt: skip
    assert len(inserts) == 1


def test_a_merge_through_ingest_moves_the_notifications_along(mailbox, sato):
    """A reply that arrived before its parent started a conversation of its own; the parent
    joins the conversation it answers, which takes the early one in, notifications too."""
    boss = make_agent("boss").user
    answered = _first(mailbox, "m1@tokyo-shoji.example")
    early = deliver(mailbox, _mail("m3@tokyo-shoji.example", reply_to="m2@tokyo-shoji.example"))
    assert early is not None and early.conversation_id != answered.pk
    conversations.assign_conversation(answered, assignee_id=sato.pk, actor_id=sato.pk)
    conversations.assign_conversation(early.conversation, assignee_id=sato.pk, actor_id=boss.pk)
    assert Notification.objects.get().conversation_id == early.conversation_id
    parent_mail = _mail("m2@tokyo-shoji.example", reply_to="m1@tokyo-shoji.example")
    with verify_action() as seen:
        parent = deliver(mailbox, parent_mail)
    assert parent is not None and parent.conversation_id == answered.pk
    assert seen.types == ["message.received", "notification.created", "conversation.merged"]
    assert seen.one(EventType.CONVERSATION_MERGED).data == {
        "merged": early.conversation_id, "messages": 1, "via": "m2@tokyo-shoji.example"
    }  # fmt: skip
    assert seen.told == [(sato.pk, "replied")]
    assert not Conversation.objects.filter(pk=early.conversation_id).exists()
    assert Conversation.objects.get(pk=answered.pk).message_count == 3
    moved = Notification.objects.values_list("conversation_id", "kind")
    assert sorted(moved) == [(answered.pk, "assigned"), (answered.pk, "replied")]
