"""Taking a reply back gives the conversation its state before the reply."""

from __future__ import annotations

import pytest

from madoguchi.mail_out import actions as outbox
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db


def _conv(team, n: int = 1):
    return make_conversation(team["support"], subject=f"件名 {n}", message_id=f"o{n}@x.example")


def test_cancelled_reply_leaves_the_customer_waiting_again(team):
    conv = _conv(team)
    message = outbox.queue_reply(conv, author=team["sato"].user, text="x", to=[])
    assert outbox.cancel(message, actor=team["sato"].user)
    conv.refresh_from_db()
    assert conv.waiting_since is not None
