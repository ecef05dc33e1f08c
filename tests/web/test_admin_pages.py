"""Admin pages: mailboxes with their servers and members, the team and invitations."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Agent, Invitation, Membership, Role
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from tests.factories import client_for, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(team):
    return client_for(make_agent("boss", role=Role.ADMIN, display_name="社長"))


def _form(**overrides):
    data = {
        "address": "info@example.jp", "name": "お問い合わせ", "signature": "窓口チーム",
        "sender_format": "{agent} ({mailbox})", "outbound_charset": "utf-8",
        "undo_seconds": "5", "max_message_mb": "25", "imap_security": "ssl",
        "imap_folder": "INBOX", "imap_after_fetch": "leave", "smtp_security": "starttls",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_agents_get_403_on_admin_pages_in_their_language(team):
    client = client_for(team["sato"])
    for url in ["/admin/mailboxes/", "/admin/mailboxes/new", "/admin/team/",
                f"/admin/mailboxes/{team['support'].pk}/"]:  # fmt: skip
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response.status_code == 403, url
        assert "権限がありません" in response.content.decode()
    assert client.post("/admin/mailboxes/new", _form()).status_code == 403
    assert not Mailbox.objects.filter(address="info@example.jp").exists()


def test_add_a_mailbox_with_members_and_encrypted_passwords(admin, team):
    response = admin.post("/admin/mailboxes/new", _form(
        imap_host="imap.example.jp", imap_user="info", imap_password="imap-secret",
        smtp_host="smtp.example.jp", smtp_password="smtp-secret",
        members=[team["sato"].user_id],
    ))  # fmt: skip
    assert response.status_code == 302
    mailbox = Mailbox.objects.get(address="info@example.jp")
    assert mailbox.imap_password == "imap-secret" and mailbox.max_message_bytes == 25 * 1024**2
    assert list(mailbox.memberships.values_list("user_id", flat=True)) == [team["sato"].user_id]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password FROM mailboxes_mailbox WHERE id = %s", [mailbox.pk])
        assert "imap-secret" not in cursor.fetchone()[0]
    page = admin.get(f"/admin/mailboxes/{mailbox.pk}/").content.decode()
    assert "imap-secret" not in page and "smtp-secret" not in page


def test_empty_password_keeps_the_stored_one(admin, team):
    admin.post("/admin/mailboxes/new", _form(imap_host="h", imap_user="u", imap_password="keep"))
    mailbox = Mailbox.objects.get(address="info@example.jp")
    admin.post(f"/admin/mailboxes/{mailbox.pk}/", _form(imap_host="h2", imap_user="u"))
    mailbox.refresh_from_db()
    assert mailbox.imap_host == "h2" and mailbox.imap_password == "keep"
    event = Event.objects.filter(type="mailbox.updated", mailbox=mailbox).last()
    assert event.data["fields"] == ["imap_host"]  # names the change, never a secret


def test_wrong_fields_get_messages_beside_them(admin):
    response = admin.post("/admin/mailboxes/new", _form(
        address="not an address", sender_format="{name}", imap_port="70000",
        imap_after_fetch="move", max_message_mb="0",
    ), HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    for text in ["valid email address", "Only {agent} and {mailbox}", "1 to 65535",
                 "Name the folder", "greater than or equal to 1"]:  # fmt: skip
        assert text in page, text
    assert not Mailbox.objects.filter(name="お問い合わせ").exists()


def test_a_sender_name_template_cannot_format_more_than_the_two_names(admin):
    """{agent:>999999999} would make str.format build a gigabyte for every reply."""
    for template in ["{agent:>999999999}", "{agent.__class__}", "{agent} {0}"]:
        response = admin.post("/admin/mailboxes/new", _form(sender_format=template),
                              HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
        assert "Only {agent} and {mailbox}" in response.content.decode(), template


def test_address_taken_and_address_fixed_once_made(admin, team):
    response = admin.post("/admin/mailboxes/new", _form(address="support@example.jp"),
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert "exists already" in response.content.decode()
    support = team["support"]
    admin.post(f"/admin/mailboxes/{support.pk}/", _form(address="other@example.jp"))
    support.refresh_from_db()
    assert support.address == "support@example.jp" and support.name == "お問い合わせ"


def test_members_removed_and_added_with_events(admin, team):
    support = team["support"]
    admin.post(f"/admin/mailboxes/{support.pk}/", _form(
        address=support.address, members=[team["kato"].user_id]))  # fmt: skip
    assert set(Membership.objects.filter(mailbox=support).values_list("user_id", flat=True)) == {
        team["kato"].user_id
    }
    types = set(Event.objects.filter(mailbox=support).values_list("type", flat=True))
    assert {"mailbox.member_added", "mailbox.member_removed"} <= types


def test_test_connection_stores_nothing(admin, team, smtp_capture):
    controller, _handler = smtp_capture
    support = team["support"]
    response = admin.post(f"/admin/mailboxes/{support.pk}/", _form(
        address=support.address, smtp_host=controller.hostname, smtp_port=str(controller.port),
        smtp_security="none", test="smtp",
    ), HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    assert "SMTP works" in response.content.decode()
    support.refresh_from_db()
    assert support.smtp_host == ""


def test_invite_accept_and_see_the_mailbox(admin, team):
    invite = {"email": "Yamada@Example.jp", "role": "agent", "mailboxes": [team["support"].pk]}
    response = admin.post("/admin/team/", invite)
    link = re.search(r'value="(http://testserver/invite/[^"]+)"', response.content.decode())[1]
    path = link.removeprefix("http://testserver")
    assert Invitation.objects.get().token_hash not in link
    newcomer = Client()
    response = newcomer.post(path, {"username": "yamada", "display_name": "山田 太郎",
                                    "password": "short", "password_again": "short"},
                             HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400 and "too short" in response.content.decode()
    good = "kinmokusei-2026"
    response = newcomer.post(path, {"username": "yamada", "display_name": "山田 太郎",
                                    "password": good, "password_again": good})  # fmt: skip
    assert response.status_code == 302
    page = newcomer.get(f"/m/{team['support'].pk}/new/")
    assert page.status_code == 200
    assert newcomer.get(f"/m/{team['sales'].pk}/new/").status_code == 404
    again = Client().get(path)
    assert again.status_code == 404  # used once only


def test_deactivated_agent_cannot_sign_in_and_admin_cannot_demote_self(admin, team):
    sato = team["sato"]
    admin.post(f"/admin/team/{sato.pk}", {f"a{sato.pk}-role": "agent"})  # unchecked: inactive
    sato.user.refresh_from_db()
    assert not sato.user.is_active
    assert not Client().login(username="sato", password="pw-sato-123")
    me = Agent.objects.get(user__username="boss")
    admin.post(f"/admin/team/{me.pk}", {f"a{me.pk}-role": "agent", f"a{me.pk}-active": "on"})
    me.refresh_from_db()
    assert me.role == "admin"


def test_withdrawn_invitation_no_longer_works(admin, team):
    response = admin.post("/admin/team/", {"email": "x@example.jp", "role": "agent"})
    path = re.search(r'value="http://testserver(/invite/[^"]+)"', response.content.decode())[1]
    admin.post(f"/admin/invitations/{Invitation.objects.get().pk}/revoke")
    assert Client().get(path).status_code == 404


def test_approval_settings_per_mailbox_and_per_member(admin, team):
    support = team["support"]
    sato = team["sato"].user_id
    response = admin.post(f"/admin/mailboxes/{support.pk}/", _form(
        address=support.address, members=[sato], approval_members=[sato],
        assign_on_reply="on", replies_need_approval="on"))  # fmt: skip
    assert response.status_code == 302
    support.refresh_from_db()
    assert support.replies_need_approval and support.assign_on_reply
    assert Membership.objects.get(mailbox=support, user_id=sato).needs_approval
    assert Event.objects.filter(type="mailbox.approval_changed", data__user=sato).exists()
    page = admin.get(f"/admin/mailboxes/{support.pk}/").content.decode()
    assert "返信に承認が必要なメンバー" in page
    admin.post(f"/admin/mailboxes/{support.pk}/", _form(address=support.address, members=[sato]))
    assert not Membership.objects.get(mailbox=support, user_id=sato).needs_approval


def test_approval_is_offered_for_agents_only(admin, team):
    """Managers' and admins' replies are never held: they are not offered."""
    create_agent("chief", password="pw-chief-1234", role=Role.MANAGER, display_name="課長")
    page = admin.get(f"/admin/mailboxes/{team['support'].pk}/").content.decode()
    approval = page.split('id="id_approval_members"', 1)[1].split("<small", 1)[0]
    assert "佐藤 花子" in approval and "加藤 次郎" in approval
    assert "課長" not in approval and "社長" not in approval
    members = page.split('id="id_members"', 1)[1].split("<small", 1)[0]
    assert "課長" in members and "社長" in members


def _section(page: str, key: str) -> str:
    return page.split(f'<fieldset id="section-{key}">', 1)[1].split("</fieldset>", 1)[0]


def test_each_test_button_sits_in_its_own_section(admin, team):
    page = admin.get(f"/admin/mailboxes/{team['support'].pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'value="imap"' in _section(html, "imap") and "IMAP host" in _section(html, "imap")
    assert 'value="smtp"' in _section(html, "smtp") and "SMTP host" in _section(html, "smtp")
    for other in ("address", "outgoing", "together", "sorting", "members"):
        assert 'name="test"' not in _section(html, other)


def test_a_test_asked_by_the_page_script_gets_just_its_answer(admin, team):
    support = team["support"]
    response = admin.post(f"/admin/mailboxes/{support.pk}/", _form(
        address=support.address, smtp_host="127.0.0.1", smtp_port="1", smtp_security="none",
        test="smtp",
    ), HTTP_ACCEPT_LANGUAGE="en", HTTP_X_FRAGMENT="check")  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and "<fieldset" not in html
    assert 'id="check-smtp"' in html and "refused the connection" in html
