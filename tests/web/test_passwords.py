"""Passwords: change your own, a reset link made by an admin, and a reset by mail that says
the same thing whether the address belongs to someone or not."""

from __future__ import annotations

import email
import re
from email.policy import default

import pytest
from django.contrib.auth.models import User
from django.test import Client

from madoguchi.accounts.actions import create_agent, set_active
from madoguchi.accounts.models import Role
from madoguchi.core.models import Event
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import client_for

NEW = "kusunoki-2026-aki"
pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    return client_for(User.objects.get(username=username), HTTP_ACCEPT_LANGUAGE="en")


def queued_tasks() -> list[tuple[str, list[object]]]:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path__contains="password_mail").order_by("enqueued_at")
    return [(r.task_path.rsplit(".", 1)[1], r.args_kwargs["args"]) for r in rows]


def run_tasks() -> None:
    from madoguchi.cli.run import build_worker

    build_worker(batch=True, interval=0).run()


def link_in(raw: bytes) -> str:
    text = email.message_from_bytes(raw, policy=default).get_body().get_content()
    return re.search(r"https?://\S+/password/reset/\S+/", text).group(0)


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The per-address count of forgot-password requests starts at zero in every test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def outbound(team, smtp_capture, transactional_db):
    """The support mailbox sends through a real (capturing) SMTP server; the tests that use
    it run the real task worker, which commits and closes its database connection."""
    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    sato = team["sato"].user
    sato.email = "sato@example.jp"
    sato.save()
    return handler


def test_change_needs_the_old_password_and_keeps_this_session_only(team):
    """A wrong old password changes nothing; the right one changes it, this browser stays
    signed in and another browser of the same person is signed out."""
    client, other = signed_in("sato"), signed_in("sato")
    assert client.get("/settings/password/").status_code == 200
    wrong = client.post("/settings/password/", {"old_password": "nope", "new_password1": NEW,
                                                "new_password2": NEW})  # fmt: skip
    assert wrong.status_code == 400
    assert User.objects.get(username="sato").check_password("pw-sato-123")
    fields = {"old_password": "pw-sato-123", "new_password1": NEW, "new_password2": NEW}
    right = client.post("/settings/password/", fields)
    assert right.status_code == 302 and right["Location"] == "/settings/"
    assert User.objects.get(username="sato").check_password(NEW)
    assert "Your password has been changed." in client.get("/settings/").content.decode()
    assert other.get("/settings/").status_code == 302  # signed out
    event = Event.objects.get(type="agent.password_changed")
    assert event.data == {"agent": team["sato"].user_id, "how": "changed"}


def test_new_password_must_pass_the_validators(team):
    client = signed_in("sato")
    fields = {"old_password": "pw-sato-123", "new_password1": "sato", "new_password2": "sato"}
    response = client.post("/settings/password/", fields)
    assert response.status_code == 400 and "too short" in response.content.decode()


def test_settings_page_links_to_the_change(team):
    assert "/settings/password/" in signed_in("sato").get("/settings/").content.decode()


def test_change_page_needs_sign_in():
    assert Client().get("/settings/password/")["Location"].startswith("/login/")


def test_without_outgoing_mail_the_forgot_page_says_ask_an_admin(team):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/password/forgot/").content.decode()
    assert "Ask an admin" in page and 'name="email"' not in page
    client.post("/password/forgot/", {"email": "sato@example.jp"})
    assert queued_tasks() == []


def test_forgot_answers_the_same_for_a_known_and_an_unknown_address(team, outbound):
    """Known or unknown address: the same redirect, the same page and the same work (one
    task, which the worker looks up); only the known one gets mail."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert 'name="email"' in client.get("/password/forgot/").content.decode()
    known = client.post("/password/forgot/", {"email": "SATO@example.jp"})
    unknown = client.post("/password/forgot/", {"email": "nobody@example.jp"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == "/password/forgot/sent/"
    assert queued_tasks() == [("mail_password_reset_to", ["sato@example.jp"]),
                              ("mail_password_reset_to", ["nobody@example.jp"])]  # fmt: skip
    run_tasks()
    assert [m.rcpts for m in outbound.received] == [["sato@example.jp"]]


def test_reset_mail_is_rate_limited_per_account(team, outbound):
    """Asking three times in a row mails once (no mail bombing a colleague)."""
    client = Client()
    for _ in range(3):
        client.post("/password/forgot/", {"email": "sato@example.jp"})
    run_tasks()
    assert len(outbound.received) == 1
    assert Event.objects.filter(type="agent.password_mail").count() == 1


def test_forgot_requests_per_client_address_are_bounded(team, outbound):
    """One client address cannot fill the task queue: past the limit nothing is queued,
    and the page still answers the same."""
    from madoguchi.web.passwords import FORGOT_PER_ADDRESS

    client = Client(REMOTE_ADDR="198.51.100.77")
    for n in range(FORGOT_PER_ADDRESS + 5):
        response = client.post("/password/forgot/", {"email": f"x{n}@example.jp"})
        assert response["Location"] == "/password/forgot/sent/"
    assert len(queued_tasks()) == FORGOT_PER_ADDRESS


def test_reset_mail_link_sets_a_new_password_once(team, outbound):
    """The mail goes through the mailbox's SMTP server; its link sets a password, once."""
    Client().post("/password/forgot/", {"email": "sato@example.jp"})
    run_tasks()
    (mail,) = outbound.received
    assert mail.rcpts == ["sato@example.jp"] and mail.mail_from == "support@example.jp"
    link = link_in(mail.data)
    path = link.split("://", 1)[1].partition("/")[2]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = client.get("/" + path, follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    assert "/set-password/" in set_url  # the token left the address bar
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == "/password/reset/done/"
    assert User.objects.get(username="sato").check_password(NEW)
    again = Client(HTTP_ACCEPT_LANGUAGE="en").get("/" + path, follow=True)
    assert "This link was used or has expired." in again.content.decode()


def test_reset_mail_link_uses_the_configured_address_not_the_host_header(team, outbound):
    """A forged Host header cannot send a colleague a link to the forger's site."""
    Client(HTTP_HOST="localhost").post("/password/forgot/", {"email": "sato@example.jp"})
    run_tasks()
    from django.conf import settings

    assert link_in(outbound.received[0].data).startswith(settings.MADOGUCHI.base_url + "/")


def test_a_bad_token_is_refused(team):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/password/reset/MQ/abc-def/", follow=True)
    assert "This link was used or has expired." in page.content.decode()


def test_admin_makes_a_reset_link_for_an_agent(team):
    """An admin's link lets the agent choose a password; the event names who made it."""
    boss = create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    admin = signed_in("boss")
    assert admin.get(f"/admin/team/{team['sato'].pk}/password-link").status_code == 405
    page = admin.post(f"/admin/team/{team['sato'].pk}/password-link")
    assert page.status_code == 200
    link = re.search(r'id="password-link" readonly value="([^"]+)"', page.content.decode())[1]
    client = Client()
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert User.objects.get(username="sato").check_password(NEW)
    event = Event.objects.get(type="agent.password_link")
    assert (event.actor_id, event.data) == (boss.user_id, {"agent": team["sato"].user_id})


def test_only_admins_make_reset_links(team):
    """An agent cannot make a link to take over a colleague's account."""
    response = signed_in("sato").post(f"/admin/team/{team['kato'].pk}/password-link")
    assert response.status_code == 403
    assert not Event.objects.filter(type="agent.password_link").exists()


def test_admin_can_have_the_link_mailed(team, outbound):
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    response = signed_in("boss").post(f"/admin/team/{team['sato'].pk}/password-link",
                                      {"mail": "1"}, follow=True)  # fmt: skip
    assert "on its way to sato@example.jp" in response.content.decode()
    assert queued_tasks() == [("mail_password_reset", [team["sato"].user_id])]
    run_tasks()
    assert [m.rcpts for m in outbound.received] == [["sato@example.jp"]]


def test_a_deactivated_agent_link_does_not_work(team):
    boss = create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    page = signed_in("boss").post(f"/admin/team/{team['sato'].pk}/password-link")
    link = re.search(r'id="password-link" readonly value="([^"]+)"', page.content.decode())[1]
    set_active(team["sato"], False, actor_id=boss.user_id)
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(link, follow=True)
    assert "This link was used or has expired." in page.content.decode()
