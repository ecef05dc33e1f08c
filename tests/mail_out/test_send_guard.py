"""The send guard under a race: two agents who send at once send exactly one reply.
What the composer shows when it refuses is in tests/web/test_send_guard.py."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from madoguchi.conversations.queries import marks
from madoguchi.mail_out import actions as outbox
from tests.factories import make_agent, make_conversation


@pytest.fixture
def conv(team):
    return make_conversation(
        team["support"], subject="納期の件", message_id="g1@tokyo-shoji.example"
    )


@pytest.mark.django_db(transaction=True)
def test_two_agents_sending_at_once_send_exactly_one_reply(conv, team):
    suzuki = make_agent("suzuki", mailboxes=[team["support"]])
    seen = marks(conv)
    start = threading.Barrier(2)
    results: list[str] = []

    def send(user) -> None:
        try:
            start.wait()
            outbox.queue_reply(conv.__class__.objects.get(pk=conv.pk), author=user,
                               text=f"{user.username} より", to=[], seen=seen)  # fmt: skip
            results.append("sent")
        except outbox.Stale as refused:
            results.append(f"refused: {len(refused.changes)}")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(u,)) for u in (team["sato"].user, suzuki.user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["refused: 1", "sent"]
    assert conv.messages.filter(direction="out").count() == 1
