"""Mail account passwords are encrypted at rest."""

from __future__ import annotations

import pytest
from django.db import connection

from madoguchi.mailboxes.actions import create_mailbox


@pytest.mark.django_db
def test_imap_password_is_not_stored_in_clear():
    """The column holds a Fernet token; the model gives back the password."""
    mailbox = create_mailbox(
        "support@example.jp",
        imap_host="imap.example.jp",
        imap_user="support",
        imap_password="s3cret-パス",
    )
    with connection.cursor() as cur:
        cur.execute("SELECT imap_password FROM mailboxes_mailbox WHERE id = %s", [mailbox.pk])
        stored = cur.fetchone()[0]
    assert "s3cret" not in stored and stored.startswith("gAAAA")
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "s3cret-パス"
