"""Each action of ``conversations.actions``: exactly the events it records and whom it tells.

Notifications are made by ``notifications.observers`` from these events, in the same
transaction; the tests state both. Receiving mail is tested through intake
(tests/mail_in/test_ingest_events.py), the outbound counterparts (``record_outbound``,
``release_outbound``, ``undo_outbound``) through the outbox (tests/mail_out/test_action_events.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Message, Status
from madoguchi.core.event_types import EventType
from madoguchi.mail import Address
from madoguchi.mail_out.actions import cancel, queue_reply
from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.models import Notification
from tests.conversations.verify import verify_action
from tests.factories import CUSTOMER
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

AUTO = {"Auto-Submitted": "auto-replied"}


def test_assigning_to_someone_else_claims_it_and_tells_them(conv, sato, suzuki):
    with verify_action() as seen:
        actions.assign_conversation(conv, assignee_id=suzuki.pk, actor_id=sato.pk)
    assert seen.types == ["conversation.assigned", "conversation.status", "notification.created"]
    assigned = seen.one(EventType.CONVERSATION_ASSIGNED)
    assert assigned.actor_id == sato.pk
    assert assigned.data == {"before": None, "after": suzuki.pk, "after_name": "鈴木 一郎"}
    status = seen.one(EventType.CONVERSATION_STATUS)
    assert status.data == {"before": "new", "after": "open", "reason": "claimed"}
    assert seen.told == [(suzuki.pk, "assigned")]
    assert seen.notifications[0].actor_id == sato.pk


def test_taking_it_oneself_tells_nobody_and_the_same_assignee_records_nothing(conv, sato):
    with verify_action() as seen:
        actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    assert seen.types == ["conversation.assigned", "conversation.status"]
    assert seen.told == []
    with verify_action() as again:
        actions.assign_conversation(conv, assignee_id=sato.pk, actor_id=sato.pk)
    assert again.types == []


def test_unassigning_tells_nobody(conv, sato, suzuki):
    actions.assign_conversation(conv, assignee_id=suzuki.pk, actor_id=sato.pk)
    with verify_action() as seen:
        actions.assign_conversation(conv, assignee_id=None, actor_id=sato.pk)
    assert seen.types == ["conversation.assigned"]
    assert seen.one(EventType.CONVERSATION_ASSIGNED).data["after"] is None
    assert seen.told == []


def test_claim_takes_an_unassigned_conversation_once(conv, sato, suzuki):
    with verify_action() as seen:
        assert actions.claim(conv, user_id=sato.pk)
    assert seen.types == ["conversation.assigned", "conversation.status"]
    with verify_action() as late:
        assert not actions.claim(conv, user_id=suzuki.pk)
    assert late.types == []


def test_mark_read_records_one_read_event_while_unread(conv, sato, suzuki):
    assert conv.unread
    with verify_action() as seen:
        assert actions.mark_read(conv, user_id=sato.pk)
    assert seen.types == ["conversation.read"]
    assert seen.events[0].actor_id == sato.pk
    with verify_action() as again:
        assert not actions.mark_read(conv, user_id=sato.pk)
    assert again.types == []


def test_change_status_records_before_and_after(conv, sato):
    with verify_action() as seen:
        actions.change_status(conv, Status.DONE, actor_id=sato.pk)
    assert seen.types == ["conversation.status"]
    assert seen.events[0].data == {"before": "new", "after": "done", "reason": ""}
    assert Conversation.objects.get(pk=conv.pk).closed_at is not None
    with verify_action() as again:
        actions.change_status(conv, Status.DONE, actor_id=sato.pk)
    assert again.types == []


def test_a_note_tells_the_members_it_mentions(conv, sato, suzuki, kato):
    with verify_action() as seen:
        note = actions.add_note(conv, author_id=sato.pk, text="@鈴木一郎さん @kato 見てください")
    assert seen.types == ["note.added", "notification.created"]
    assert seen.one(EventType.NOTE_ADDED).data == {"note": note.pk}
    assert seen.told == [(suzuki.pk, "mentioned")]  # kato may not see the mailbox


def test_a_note_without_a_mention_tells_nobody(conv, sato, suzuki):
    with verify_action() as seen:
        actions.add_note(conv, author_id=sato.pk, text="請求書は再発行済み (mail@example.jp)")
    assert seen.types == ["note.added"]
    assert seen.told == []


def test_tags_are_recorded_once_each_way(conv, sato):
    with verify_action() as tagged:
        tag = actions.tag_conversation(conv, "VIP", actor_id=sato.pk)
        actions.tag_conversation(conv, "vip", actor_id=sato.pk)  # the same tag: nothing
    assert tagged.types == ["conversation.tagged"]
    assert tagged.events[0].data == {"tag": "VIP"}
    with verify_action() as untagged:
        actions.untag_conversation(conv, tag, actor_id=sato.pk)
        actions.untag_conversation(conv, tag, actor_id=sato.pk)
    assert untagged.types == ["conversation.untagged"]


def test_start_outbound_records_a_started_conversation_of_its_author(mailbox, sato):
    with verify_action() as seen:
        conv = actions.start_outbound(
            mailbox, customer=Address("田中 一郎", "tanaka@tokyo-shoji.example"),
            subject="ご案内", author=sato,
        )  # fmt: skip
    assert seen.types == ["conversation.started"]
    assert seen.events[0].conversation_id == conv.pk and seen.events[0].actor_id == sato.pk
    assert (conv.status, conv.assignee_id, conv.message_count) == ("open", sato.pk, 0)


def _automated(mailbox: Mailbox) -> Conversation:
    mail = make_mail(sender=str(CUSTOMER), subject="自動応答: 不在", headers=AUTO,
                     message_id="auto1@tokyo-shoji.example")  # fmt: skip
    message = deliver(mailbox, mail)
    assert message is not None and message.conversation.kind == "auto_reply"
    return message.conversation


def test_mark_not_automated_records_the_kind_and_the_sender_added(mailbox, sato):
    conv = _automated(mailbox)
    with verify_action() as seen:
        actions.mark_not_automated(conv, actor_id=sato.pk, always="tokyo-shoji.example")
    assert seen.types == ["conversation.kind", "mailbox.person_sender_added"]
    assert seen.events[0].data == {"before": "auto_reply", "after": "normal", "reason": "marked",
                                   "always": "tokyo-shoji.example"}  # fmt: skip
    assert seen.events[0].actor_id == sato.pk


def test_apply_kinds_moves_a_reclassified_conversation_back_to_new(mailbox):
    conv = _automated(mailbox)
    message = conv.messages.get()
    change = actions.KindChange(message.pk, conv.pk, "auto_reply", "normal", "person", "")
    with verify_action() as seen:
        assert actions.apply_kinds([change]) == [conv]
    assert seen.types == ["conversation.kind"]
    assert seen.events[0].data == {"before": "auto_reply", "after": "normal",
                                   "reason": "reclassified"}  # fmt: skip
    assert seen.events[0].actor_id is None


def _older(conv: Conversation, hours: int) -> None:
    """Move a conversation's activity and its customer's mail back in time."""
    at = timezone.now() - timedelta(hours=hours)
    Conversation.objects.filter(pk=conv.pk).update(last_activity_at=at, waiting_since=at)
    Message.objects.filter(conversation=conv).update(received_at=at)


def test_merge_into_derives_the_targets_fields_again_and_moves_notifications(
    mailbox, conv, sato, suzuki
):
    """The target counts the source's messages (not a reply taken back), shows the newest
    inbound mail's snippet and activity, waits since the longer wait, and the notifications
    of the source now point at the target."""
    _older(conv, hours=5)
    actions.mark_read(conv, user_id=sato.pk)
    mail = make_mail(sender=str(CUSTOMER), subject="別件", body="\n至急お願いします。\n",
                     message_id="other1@tokyo-shoji.example")  # fmt: skip
    later = deliver(mailbox, mail)
    assert later is not None
    source = later.conversation
    actions.assign_conversation(source, assignee_id=suzuki.pk, actor_id=sato.pk)
    taken_back = queue_reply(source, author=suzuki, text="確認します。", to=[Address("", "x@y.jp")])
    assert cancel(taken_back, actor=suzuki)
    source.refresh_from_db()
    target = Conversation.objects.get(pk=conv.pk)
    assert (target.message_count, source.message_count) == (1, 1)

    with verify_action() as seen:
        actions.merge_into(target.pk, [source.pk], parent_id="")
    assert seen.types == ["conversation.merged"]
    assert seen.events[0].data == {"merged": source.pk, "messages": 2, "via": ""}
    assert not Conversation.objects.filter(pk=source.pk).exists()
    merged = Conversation.objects.get(pk=target.pk)
    assert merged.message_count == 2  # the reply taken back does not count
    assert merged.snippet == "至急お願いします。"
    assert merged.last_activity_at == source.last_activity_at
    assert merged.waiting_since == target.waiting_since  # the longer wait
    assert merged.unread  # the source's mail was not read yet
    assert merged.messages.count() == 3
    assert list(Notification.objects.values_list("conversation_id", "user_id", "kind")) == [
        (target.pk, suzuki.pk, "assigned")
    ]


def test_merging_a_persons_conversation_into_an_automated_one_makes_it_normal(mailbox, conv):
    automated = _automated(mailbox)
    with verify_action() as seen:
        actions.merge_into(automated.pk, [conv.pk], parent_id="c1@tokyo-shoji.example")
    assert seen.types == ["conversation.merged", "conversation.kind"]
    assert seen.events[1].data == {"before": "auto_reply", "after": "normal", "reason": "person"}
    merged = Conversation.objects.get(pk=automated.pk)
    assert (merged.kind, merged.message_count) == ("normal", 2)
