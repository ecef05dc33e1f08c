"""``queries.inbox``: the lists of a mailbox, paged with a cursor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.conversations import queries
from madoguchi.conversations.models import Conversation
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db


def _conv(team, n: int) -> Conversation:
    return make_conversation(team["support"], subject=f"件名 {n}", message_id=f"o{n}@x.example")


def test_waiting_sort_pages_with_a_cursor(team):
    convs = [_conv(team, n) for n in range(queries.PAGE + 5)]
    now = timezone.now()
    for n, conv in enumerate(convs):
        Conversation.objects.filter(pk=conv.pk).update(waiting_since=now - timedelta(minutes=n))
    agent = team["sato"]
    first, cursor = queries.inbox(agent, mailbox=team["support"], view=None, tab="new",
                                  sort="waiting")  # fmt: skip
    assert cursor is not None
    rest, end = queries.inbox(agent, mailbox=team["support"], view=None, tab="new",
                              sort="waiting", after=cursor)  # fmt: skip
    assert end is None
    seen = [c.pk for c in first + rest]
    assert seen == [c.pk for c in reversed(convs)]
