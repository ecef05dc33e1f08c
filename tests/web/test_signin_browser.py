"""Sign-in protection in a real browser: two-step sign-in from turning it on to signing in
with a code, and a lockout after five wrong passwords that an admin lifts."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django.contrib.auth.models import User
from django_otp import devices_for_user
from django_otp.oath import TOTP
from playwright.sync_api import expect

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Role
from tests.waiting import wait_until
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for ``secret`` (as typed: base32 in groups)."""
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _may_try_a_code_again() -> bool:
    """django-otp throttles a device after a wrong code (1 s, then doubling)."""
    sato = User.objects.get(username="sato")
    return all(device.verify_is_allowed()[0] for device in devices_for_user(sato))


def test_turn_on_two_step_sign_in_then_sign_in_with_a_code(page, web, team):
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/settings/")
    page.click("a.twofactor-link")
    page.click("form[action='/settings/2fa/start'] button")
    expect(page.locator("img.qr")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    shot(page, "twofactor_setup.png")
    page.fill("#id_code", app_code(secret))
    page.click("button.primary")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    recovery = page.locator("#recovery-codes li").first.inner_text()
    shot(page, "twofactor_recovery_codes.png")

    page.click(".signout button")
    expect(page.locator("#id_username")).to_be_visible()
    page.fill("#id_username", "sato")
    page.fill("#id_password", "pw-sato-123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{web}/login/code/")
    page.fill("#id_code", "000000")
    page.click("button[type=submit]")
    expect(page.locator(".login .error")).to_be_visible()
    shot(page, "twofactor_code_wrong.png")
    wait_until(_may_try_a_code_again, "django-otp's wait after a wrong code ends", timeout=10)
    page.fill("#id_code", app_code(secret, 1))
    page.click("button[type=submit]")
    expect(page.locator("nav.rail")).to_be_visible()
    expect(page.locator(".signout .me")).to_have_text("佐藤 花子")

    # a recovery code works instead of the app, once
    page.click(".signout button")
    login(page, web, "sato", "pw-sato-123")
    page.fill("#id_code", recovery)
    page.click("button[type=submit]")
    expect(page.locator(".flash li")).to_contain_text("9")
    shot(page, "twofactor_recovery_used.png")


def test_five_wrong_passwords_lock_and_an_admin_unlocks(two, web, team):
    admin, visitor = two
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN, display_name="社長")
    login(admin, web, "boss", "pw-boss-1234")
    for _ in range(5):
        login(visitor, web, "sato", "not-my-password")
    expect(visitor.locator(".login.locked")).to_be_visible()
    expect(visitor.locator(".login.locked")).to_contain_text("15")
    shot(visitor, "signin_locked.png")
    # the right password does not help while locked
    login(visitor, web, "sato", "pw-sato-123")
    expect(visitor.locator(".login.locked")).to_be_visible()

    admin.goto(f"{web}/admin/team/")
    row = admin.locator("#locks tr", has_text="sato")
    expect(row).to_be_visible()
    shot(admin, "signin_locks_admin.png")
    row.locator("button").click()
    expect(admin.locator(".flash li")).to_contain_text("sato")

    login(visitor, web, "sato", "pw-sato-123")
    expect(visitor.locator("nav.rail")).to_be_visible()

    admin.goto(f"{web}/admin/audit/")
    expect(admin.locator("#audit-table tr[data-action='signin.unlocked']")).to_have_count(1)
    expect(admin.locator("#audit-table tr[data-action='signin.locked']")).to_have_count(1)
    shot(admin, "audit_log.png")
