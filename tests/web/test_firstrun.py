"""The first run: no account, no default password; the first admin is made on /setup/,
which only a browser on the server itself may use."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Agent, Role

LOCAL = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000"}
FORM = {"username": "boss", "display_name": "社長", "email": "Boss@Example.jp",
        "password": "hinoki-no-ki-2026", "password_again": "hinoki-no-ki-2026"}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/login/"])
def test_nobody_can_sign_in_so_home_and_login_lead_to_setup(path):
    response = Client(**LOCAL).get(path)
    assert response.status_code == 302 and response["Location"] == "/setup/"


@pytest.mark.django_db
def test_setup_on_the_server_creates_the_admin_signs_in_and_points_to_mailboxes():
    client = Client(**LOCAL)
    assert client.get("/setup/").status_code == 200
    response = client.post("/setup/", FORM, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[0] == ("/admin/mailboxes/", 302)
    assert "first mailbox: its address" in response.content.decode()
    agent = Agent.objects.select_related("user").get()
    assert (agent.user.username, agent.role, agent.display_name) == ("boss", Role.ADMIN, "社長")
    assert agent.user.email == "boss@example.jp"
    assert agent.user.check_password(FORM["password"])
    assert response.wsgi_request.user == agent.user


@pytest.mark.django_db
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "192.0.2.7", "HTTP_HOST": "127.0.0.1:8000"},
        {"REMOTE_ADDR": "10.1.2.3", "HTTP_HOST": "localhost"},
        # a reverse proxy on the same machine connects from 127.0.0.1 but says for whom
        {**LOCAL, "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {**LOCAL, "HTTP_FORWARDED": "for=203.0.113.9"},
        {**LOCAL, "HTTP_X_REAL_IP": "203.0.113.9"},
        # a name that only points here (a proxy passing Host on, or DNS rebinding)
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "inbox.example.jp"},
    ],
    ids=["remote", "remote-localhost-host", "x-forwarded-for", "forwarded", "x-real-ip",
         "public-host"],
)  # fmt: skip
def test_setup_from_elsewhere_says_run_createadmin_and_creates_nobody(meta, settings):
    """Only a browser on the server itself may create the first admin."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "inbox.example.jp"]
    client = Client(**meta)
    page = client.get("/setup/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    assert "madoguchi createadmin" in page.content.decode()
    assert "password" not in page.content.decode().lower()
    assert client.post("/setup/", FORM).status_code == 403
    assert not Agent.objects.exists()


@pytest.mark.django_db
def test_ipv6_loopback_may_set_up():
    client = Client(REMOTE_ADDR="::1", HTTP_HOST="[::1]:8000")
    assert client.get("/setup/").status_code == 200


@pytest.mark.django_db
def test_once_an_admin_exists_setup_is_gone_and_login_is_the_login():
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    client = Client(**LOCAL)
    assert client.get("/setup/").status_code == 404
    assert client.post("/setup/", {**FORM, "username": "mallory"}).status_code == 404
    assert client.get("/login/").status_code == 200
    assert client.get("/")["Location"].startswith("/login/")
    assert Agent.objects.count() == 1


@pytest.mark.django_db
def test_agents_without_an_admin_can_still_sign_in():
    """The team is never sent away from the sign-in page; /setup/ can still add an admin."""
    create_agent("sato", password="pw-sato-123")
    client = Client(**LOCAL)
    assert client.get("/login/").status_code == 200
    assert client.get("/setup/").status_code == 200


@pytest.mark.django_db
def test_weak_or_mismatched_passwords_are_refused_beside_the_field():
    client = Client(**LOCAL)
    weak = client.post("/setup/", {**FORM, "password": "boss", "password_again": "boss"},
                       HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    differ = client.post("/setup/", {**FORM, "password_again": "something-else-2026"},
                         HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert differ.status_code == 400 and "The two passwords differ." in differ.content.decode()
    assert not Agent.objects.exists()
