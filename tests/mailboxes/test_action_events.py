"""Each action of mailboxes records exactly its events (``verify_action``); a change names
the fields, never their values (passwords)."""

from __future__ import annotations

import pytest

from madoguchi.core.event_types import EventType as T
from madoguchi.mailboxes.actions import add_person_sender, create_mailbox, update_mailbox
from tests.conversations.verify import verify_action

pytestmark = pytest.mark.django_db


def test_create_update_and_person_senders():
    with verify_action() as seen:
        box = create_mailbox("support@example.jp", name="サポート")
    assert seen.types == [T.MAILBOX_CREATED]
    assert seen.events[0].data == {"address": "support@example.jp"}
    with verify_action() as seen:
        update_mailbox(box, name="窓口", imap_password="secret-imap-pw")
        update_mailbox(box, name="窓口")  # nothing changed: nothing recorded
    assert seen.types == [T.MAILBOX_UPDATED]
    assert sorted(seen.events[0].data["fields"]) == ["imap_password", "name"]
    assert "secret-imap-pw" not in str(seen.events[0].data)
    with verify_action() as seen:
        assert add_person_sender(box, "example.com", actor_id=None)
        assert not add_person_sender(box, "example.com", actor_id=None)
    assert seen.types == [T.MAILBOX_PERSON_SENDER_ADDED]
