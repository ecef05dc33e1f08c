"""The first hour in a real browser: a fresh server with no account at all."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.models import Agent, Role
from tests.web.browser import login, shot
from tests.web.firstrun import change_password, create_first_admin, sign_out

pytestmark = pytest.mark.browser
NEW = "kusunoki-2026-aki"


def test_first_run_creates_the_admin_who_changes_the_password_and_signs_in_again(
    page, web, browser, browser_context_args
):
    """/ leads to the first-run page; the admin made there is signed in and sent to add a
    mailbox; the password changes on the settings page; the new one signs in, the old not.
    A request through a proxy is told to use `madoguchi createadmin` instead."""
    proxied = browser.new_context(**browser_context_args,
                                  extra_http_headers={"Forwarded": "for=203.0.113.9"})  # fmt: skip
    stranger = proxied.new_page()
    stranger.goto(web)
    expect(stranger.locator(".setup-remote")).to_contain_text("madoguchi createadmin")
    expect(stranger.locator("#id_password")).to_have_count(0)
    shot(stranger, "firstrun_remote_ja.png")
    proxied.close()
    page.goto(web)
    expect(page).to_have_url(f"{web}/setup/")
    shot(page, "firstrun_setup_ja.png")
    admin = create_first_admin(page, web)
    expect(page.locator(".flash")).to_contain_text(admin["display_name"])
    shot(page, "firstrun_welcome_ja.png")
    agent = Agent.objects.get(user__username=admin["username"])
    assert agent.role == Role.ADMIN
    page.goto(f"{web}/setup/")
    expect(page.locator("h1")).to_have_count(1)  # the 404 page, no form
    expect(page.locator("#id_password")).to_have_count(0)
    page.goto(f"{web}/settings/password/")
    page.fill("#id_old_password", "not-the-password")
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW)
    page.click("form button.primary")
    expect(page.locator(".field.invalid")).to_have_count(1)
    shot(page, "password_change_error_ja.png")
    change_password(page, web, admin["password"], NEW)
    expect(page.locator(".flash")).to_be_visible()
    shot(page, "password_changed_ja.png")
    sign_out(page, web)
    login(page, web, admin["username"], admin["password"])
    expect(page.locator(".login .error")).to_be_visible()
    login(page, web, admin["username"], NEW)
    expect(page.locator(".rail .me")).to_have_text(admin["display_name"])
