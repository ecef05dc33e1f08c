"""``conversations.changes.Changes``: many changes gathered, then written together."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.conversations.changes import Changes
from madoguchi.conversations.models import Conversation, Status, Tag
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db


def conversations(mailbox: Mailbox, n: int) -> list[Conversation]:
    return [make_conversation(mailbox, subject=f"件 {i}") for i in range(n)]


def test_nothing_is_written_before_save(mailbox: Mailbox, sato: User) -> None:
    (conv,) = conversations(mailbox, 1)
    changes = Changes()
    changes.assign(conv, sato.pk, actor_id=None)
    assert conv.assignee_id == sato.pk and conv.status == Status.OPEN  # seen at once
    assert Conversation.objects.get(pk=conv.pk).assignee_id is None
    written = changes.save()
    assert [e.type for e in written] == ["conversation.assigned", "conversation.status"]
    stored = Conversation.objects.get(pk=conv.pk)
    assert (stored.assignee_id, stored.status) == (sato.pk, Status.OPEN)
    assert not changes  # saved: nothing left


def test_many_conversations_cost_the_queries_of_two(mailbox: Mailbox, sato: User) -> None:
    def count(convs: list[Conversation]) -> int:
        changes = Changes()
        for conv in convs:
            changes.assign(conv, sato.pk, actor_id=None, rule="r")
            changes.tag(conv, "請求", actor_id=None, rule="r")
            changes.status(conv, Status.HOLD, actor_id=None, rule="r")
        with CaptureQueriesContext(connection) as seen:
            changes.save()
        return len(seen)

    count(conversations(mailbox, 1))  # the tag is made on first use
    assert count(conversations(mailbox, 2)) == count(conversations(mailbox, 6))
    assert Conversation.objects.filter(status=Status.HOLD, tags__name="請求").count() == 9


def test_a_tag_already_there_or_already_gone_changes_nothing(mailbox: Mailbox) -> None:
    (conv,) = conversations(mailbox, 1)
    Tag.objects.create(name="VIP")
    changes = Changes()
    changes.tag(conv, "vip", actor_id=None)  # ASCII case does not make another tag
    changes.tag(conv, "VIP", actor_id=None)
    changes.untag(conv, "未知", actor_id=None)  # unknown: nothing, and no tag made
    written = changes.save()
    assert [(e.type, e.data["tag"]) for e in written] == [("conversation.tagged", "VIP")]
    assert list(conv.tags.values_list("name", flat=True)) == ["VIP"]
    assert not Tag.objects.filter(name="未知").exists()
    changes.untag(conv, "VIP", actor_id=None)
    changes.tag(conv, "VIP", actor_id=None)
    changes.untag(conv, "VIP", actor_id=None)
    written = changes.save()
    assert [e.type for e in written] == ["conversation.untagged", "conversation.tagged",
                                         "conversation.untagged"]  # fmt: skip
    assert not conv.tags.exists()


def test_undo_takes_back_what_came_after_the_mark(mailbox: Mailbox, sato: User) -> None:
    first, second = conversations(mailbox, 2)
    changes = Changes()
    changes.tag(first, "A", actor_id=None)
    mark = changes.mark()
    changes.assign(first, sato.pk, actor_id=None)
    changes.status(second, Status.DONE, actor_id=None)
    changes.tag(second, "B", actor_id=None)
    changes.undo(mark)
    assert (first.assignee_id, first.status) == (None, Status.NEW)
    assert (second.status, second.closed_at) == (Status.NEW, None)
    written = changes.save()
    assert [e.type for e in written] == ["conversation.tagged"]
    assert Conversation.objects.filter(status=Status.NEW).count() == 2
    assert not Event.objects.filter(type=EventType.CONVERSATION_ASSIGNED).exists()
