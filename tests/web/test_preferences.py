"""An agent chooses their language and time zone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.models import Agent
from tests.factories import client_for
from tests.waiting import wait_until
from tests.web.browser import login, shot


@pytest.mark.browser
def test_switching_to_english_changes_the_whole_ui(page, web, team):
    """Choosing English on the settings page turns the inbox into English."""
    login(page, web, "sato", "pw-sato-123")
    page.click(".signout .me")
    expect(page.locator("h1")).to_have_text("設定")
    page.select_option("#id_language", "en")
    page.select_option("#id_time_zone", "Europe/Berlin")
    page.click("button.primary")
    expect(page.locator(".saved")).to_have_text("Saved.")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(web)
    expect(page.locator(".tabs a[aria-current]")).to_contain_text("New")
    shot(page, "inbox_en.png")
    agent = Agent.objects.get(user__username="sato")
    assert (agent.language, agent.time_zone) == ("en", "Europe/Berlin")


@pytest.mark.django_db
def test_unknown_time_zone_is_refused_beside_the_field(team):
    """A time zone that does not exist gets a message on that field and changes nothing."""
    response = client_for(team["sato"]).post(
        "/settings/", {"display_name": "佐藤", "language": "ja", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    assert "Mars/Olympus" in response.content.decode()
    assert Agent.objects.get(user__username="sato").time_zone == "Asia/Tokyo"


@pytest.mark.django_db
def test_notification_mail_needs_an_address_and_is_kept(team):
    client = client_for(team["sato"])
    base = {"display_name": "佐藤 花子", "language": "", "time_zone": "Asia/Tokyo"}
    refused = client.post("/settings/", {**base, "notify_by_mail": "on", "email": ""},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert refused.status_code == 400
    assert "Notification mail needs your mail address." in refused.content.decode()
    ok = client.post("/settings/", {**base, "notify_by_mail": "on", "email": "sato@team.example"})
    assert ok.status_code == 302
    agent = Agent.objects.select_related("user").get(user__username="sato")
    assert agent.notify_by_mail and agent.user.email == "sato@team.example"


@pytest.mark.browser
def test_notification_mail_starts_once_the_mailed_link_is_opened(page, web, team, smtp_capture):
    """Turn notification mail on → a link arrives at the address → open it → confirmed."""
    import re

    from madoguchi.mail import parse
    from madoguchi.mailboxes.actions import update_mailbox
    from madoguchi.notifications.addresses import is_confirmed

    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/settings/")
    page.fill("#id_email", "sato@team.example")
    page.check("#id_notify_by_mail")
    page.click("button.primary")
    expect(page.locator(".mail-state.pending")).to_contain_text("sato@team.example")
    shot(page, "notify_address_pending_ja.png")
    wait_until(lambda: handler.received, "the confirmation mail reaches the SMTP server", 30)
    mail = parse(handler.received[0].data)
    assert handler.received[0].rcpts == ["sato@team.example"]
    link = re.search(r"https?://[^/\s]+(/settings/\?confirm=\S+)", mail.text)
    assert link, mail.text
    page.goto(web + link[1])
    expect(page.locator(".mail-state.confirmed")).to_contain_text("sato@team.example")
    shot(page, "notify_address_confirmed_ja.png")
    assert is_confirmed(Agent.objects.get(user__username="sato").user)
