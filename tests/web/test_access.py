"""Permissions are checked on the server for every page, fragment and file."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.conversations.models import Attachment
from tests.factories import client_for
from tests.mail_in.helpers import deliver

pytestmark = pytest.mark.django_db


def _with_attachment():
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@b.example", "sales@example.jp", "契約書"
    msg["Message-ID"] = "<att1@b.example>"
    msg.set_content("添付します。")
    msg.add_alternative("<p>添付します。</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="契約書.pdf")
    return msg.as_bytes()


def test_non_member_gets_404_everywhere(team):
    """An agent outside a mailbox gets 404 for its list, conversations, HTML, raw and files."""
    message = deliver(team["sales"], _with_attachment())
    conv = message.conversation
    att = Attachment.objects.get(message=message)
    sato = client_for(team["sato"])
    for url in [
        f"/m/{team['sales'].pk}/new/",
        f"/c/{conv.pk}/",
        f"/c/{conv.pk}/m/{message.pk}/html",
        f"/c/{conv.pk}/m/{message.pk}/raw",
        f"/a/{att.pk}/",
    ]:
        assert sato.get(url).status_code == 404, url
    assert sato.post(f"/c/{conv.pk}/assign", {"assignee": "me"}).status_code == 404
    assert sato.post(f"/c/{conv.pk}/status", {"status": "done"}).status_code == 404
    assert sato.post(f"/c/{conv.pk}/note", {"note": "x"}).status_code == 404
    assert sato.post(f"/c/{conv.pk}/tags", {"tag": "x"}).status_code == 404
    sato.post("/bulk", {"ids": [conv.pk], "status": "done", "next": "/"})
    conv.refresh_from_db()
    assert conv.status == "new" and not conv.notes.exists() and not conv.tags.exists()
    kato = client_for(team["kato"])
    assert kato.get(f"/c/{conv.pk}/").status_code == 200
    assert kato.get(f"/a/{att.pk}/").status_code == 200


def test_404_page_is_in_the_users_language(team):
    """A stale link gets a 404 page in Japanese, never a 500."""
    sato = client_for(team["sato"])
    response = sato.get("/c/999999/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 404
    assert "存在しないか" in response.content.decode()


def test_bad_form_values_are_refused_not_500(team):
    """A wrong status or assignee is refused with a message; nothing changes."""
    message = deliver(team["support"], _with_attachment().replace(b"sales@", b"support@"))
    sato = client_for(team["sato"])
    conv = message.conversation
    for url, data in [
        (f"/c/{conv.pk}/status", {"status": "bogus"}),
        (f"/c/{conv.pk}/assign", {"assignee": str(team["kato"].user_id)}),
        (f"/c/{conv.pk}/assign", {"assignee": "x'; drop"}),
    ]:
        response = sato.post(url, data)
        assert response.status_code == 302 and "error=" in response["Location"]
    conv.refresh_from_db()
    assert conv.status == "new" and conv.assignee_id is None


def test_mail_html_is_served_sandboxed(team):
    """The HTML part comes with a CSP that forbids scripts and remote loads, and sandboxes it."""
    message = deliver(team["sales"], _with_attachment())
    kato = client_for(team["kato"])
    response = kato.get(f"/c/{message.conversation_id}/m/{message.pk}/html")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert "https:" not in policy
    assert (
        "https:"
        in kato.get(f"/c/{message.conversation_id}/m/{message.pk}/html?images=1")[
            "Content-Security-Policy"
        ]
    )


def test_anonymous_is_sent_to_sign_in(team):
    """Without a session every page redirects to the sign-in page."""
    assert Client().get("/").status_code == 302
    assert "/login/" in Client().get("/c/1/")["Location"]


def test_a_stale_form_gets_the_expired_page_not_a_500(team):
    """A form posted without a valid CSRF token: 403 in Japanese, saying nothing changed."""
    client = client_for(team["sato"], enforce_csrf_checks=True)
    response = client.post("/settings/", {"display_name": "x"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 403
    assert "有効期限が切れました" in response.content.decode()
