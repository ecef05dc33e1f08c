"""Browser steps of the first hour, for any browser test to reuse: make the first admin on
the first-run page, change one's password, sign out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

#: The first admin the helpers make unless told otherwise.
ADMIN = {"username": "boss", "display_name": "社長", "email": "boss@example.jp",
         "password": "hinoki-no-ki-2026"}  # fmt: skip


def create_first_admin(page: Page, base: str, **given: str) -> dict[str, str]:
    """Open the fresh installation's home page, which leads to /setup/, and make the first
    admin there; returns the admin's fields. Ends signed in, on the mailbox admin page."""
    admin = {**ADMIN, **given}
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/setup/")
    page.fill("#id_username", admin["username"])
    page.fill("#id_display_name", admin["display_name"])
    page.fill("#id_email", admin["email"])
    page.fill("#id_password", admin["password"])
    page.fill("#id_password_again", admin["password"])
    page.click("form.setup button[type=submit]")
    expect(page).to_have_url(f"{base}/admin/mailboxes/")
    expect(page.locator(".rail .me")).to_have_text(admin["display_name"])
    return admin


def change_password(page: Page, base: str, old: str, new: str) -> None:
    """From the settings page: the change-password form, old password first."""
    page.goto(f"{base}/settings/")
    page.click("a.password-change")
    expect(page).to_have_url(f"{base}/settings/password/")
    page.fill("#id_old_password", old)
    page.fill("#id_new_password1", new)
    page.fill("#id_new_password2", new)
    page.click("form button.primary")
    expect(page).to_have_url(f"{base}/settings/")


def sign_out(page: Page, base: str) -> None:
    page.click(".signout button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(f"{base}/login/")))
