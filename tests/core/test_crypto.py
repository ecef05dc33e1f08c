"""Mail account passwords are encrypted at rest."""

from __future__ import annotations

import pytest
from django.db import connection

from madoguchi.mailboxes.actions import create_mailbox
from tests.factories import client_for, make_agent


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


OLD, NEW = "old-secret-key-" + "o" * 40, "new-secret-key-" + "n" * 40


def _mailbox_under(key: str, **fields):
    from django.test import override_settings

    with override_settings(SECRET_KEY=key, SECRET_KEY_FALLBACKS=[]):
        return create_mailbox("support@example.jp", imap_host="imap.example.jp", imap_user="s",
                              imap_password="imap-pw", smtp_host="smtp.example.jp",
                              smtp_user="s", smtp_password="smtp-pw", **fields)  # fmt: skip


@pytest.mark.django_db
def test_a_changed_secret_key_asks_for_the_passwords_instead_of_crashing(settings):
    """Pages that load the mailbox work; the admin list names it; saving keeps the token."""
    from madoguchi.accounts.models import Role
    from madoguchi.mailboxes.actions import update_mailbox
    from madoguchi.mailboxes.models import Mailbox

    mailbox = _mailbox_under(OLD)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    loaded = Mailbox.objects.get(pk=mailbox.pk)
    assert loaded.imap_password == "" and loaded.lost_passwords == ["imap", "smtp"]
    client = client_for(make_agent("boss", role=Role.ADMIN))
    listing = client.get("/admin/mailboxes/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200
    assert 'id="lost-passwords"' in listing.content.decode()
    assert "support@example.jp" in listing.content.decode()
    assert client.get(f"/admin/mailboxes/{mailbox.pk}/").status_code == 200
    assert client.get(f"/m/{mailbox.pk}/new/").status_code == 200
    update_mailbox(loaded, actor_id=None, name="Support")  # keeps what it cannot read
    settings.SECRET_KEY = OLD
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == "imap-pw"


@pytest.mark.django_db
def test_sending_and_intake_say_the_password_must_be_typed_again(settings):
    from madoguchi.mail_in.imap import connect
    from madoguchi.mail_out.smtp import DeliveryError, send
    from madoguchi.mailboxes.models import Mailbox
    from madoguchi.web.connection_check import check_smtp

    mailbox = _mailbox_under(OLD)
    settings.SECRET_KEY = NEW
    loaded = Mailbox.objects.get(pk=mailbox.pk)
    with pytest.raises(DeliveryError, match="type it again") as failed:
        send(loaded, "support@example.jp", ["c@example.com"], b"Subject: x\r\n\r\nx\r\n")
    assert failed.value.temporary
    with pytest.raises(PermissionError, match="IMAP password of support@example.jp"):
        connect(loaded)
    result = check_smtp(loaded)
    assert not result.ok and "secret key" in result.message or "秘密鍵" in result.message


@pytest.mark.django_db
def test_an_old_key_in_the_fallbacks_keeps_passwords_readable_and_saving_rotates(settings):
    from madoguchi.mailboxes.actions import update_mailbox
    from madoguchi.mailboxes.models import Mailbox

    mailbox = _mailbox_under(OLD)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    loaded = Mailbox.objects.get(pk=mailbox.pk)
    assert loaded.imap_password == "imap-pw" and loaded.lost_passwords == []
    update_mailbox(loaded, actor_id=None, imap_password="imap-pw")
    settings.SECRET_KEY_FALLBACKS = []
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == "imap-pw"  # now under NEW
