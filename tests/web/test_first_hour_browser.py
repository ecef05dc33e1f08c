"""The issue's walk through the first hour, end to end in one browser: a fresh server →
the first admin made on the first-run page → signed in → two-step sign-in turned on →
signed out → signed in with a code; then five wrong passwords lock the account with a
clear message. The parts are tested in detail in test_firstrun*, test_signin*, test_twofactor."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.browser import login, shot
from tests.web.firstrun import create_first_admin, sign_out
from tests.web.test_signin_browser import app_code

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_first_admin_turns_on_two_step_sign_in_and_guessing_locks(page, web):
    admin = create_first_admin(page, web)
    sign_out(page, web)
    login(page, web, admin["username"], admin["password"])
    expect(page.locator(".rail .me")).to_have_text(admin["display_name"])

    page.goto(f"{web}/settings/")
    page.click("a.twofactor-link")
    page.click("form[action='/settings/2fa/start'] button")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", app_code(secret))
    page.click("button.primary")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "first_hour_recovery_codes_ja.png")

    sign_out(page, web)
    login(page, web, admin["username"], admin["password"])
    expect(page).to_have_url(f"{web}/login/code/")
    shot(page, "first_hour_code_step_ja.png")
    page.fill("#id_code", app_code(secret, 1))  # the next step's code: the first was used
    page.click("button[type=submit]")
    expect(page.locator(".rail .me")).to_have_text(admin["display_name"])

    sign_out(page, web)
    for _ in range(5):
        login(page, web, admin["username"], "not-the-password")
    locked = page.locator(".login.locked")
    expect(locked).to_be_visible()
    expect(locked).to_contain_text("15")
    shot(page, "first_hour_locked_ja.png")
    login(page, web, admin["username"], admin["password"])  # the right one is refused too
    expect(locked).to_be_visible()
