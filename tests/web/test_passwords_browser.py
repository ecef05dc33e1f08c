"""Forgotten passwords in a real browser: a link from an admin, and a link by mail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Role
from madoguchi.mailboxes.actions import update_mailbox
from tests.waiting import wait_until
from tests.web.browser import login, shot
from tests.web.test_passwords import link_in

pytestmark = pytest.mark.browser
NEW = "kusunoki-2026-aki"


def choose_new_password(page, link: str, password: str) -> None:
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/set-password/$"))  # the token left the address bar
    page.fill("#id_new_password1", password)
    page.fill("#id_new_password2", password)
    page.click("form.login button[type=submit]")
    expect(page.locator(".password-done")).to_be_visible()


def test_admin_passes_on_a_reset_link(page, web, team, browser, browser_context_args):
    """On the team page the admin makes a link for sato; sato opens it, chooses a password
    and signs in with it."""
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN, display_name="社長")
    login(page, web, "boss", "pw-boss-1234")
    page.goto(f"{web}/admin/team/")
    page.click(f"#agent-{team['sato'].pk} .password-link button")
    link = page.locator("#password-link").input_value()
    assert "/password/reset/" in link
    shot(page, "password_link_ja.png")
    context = browser.new_context(**browser_context_args)
    sato = context.new_page()
    choose_new_password(sato, link, NEW)
    shot(sato, "password_reset_done_ja.png")
    login(sato, web, "sato", NEW)
    expect(sato.locator(".rail")).to_contain_text("サポート窓口")
    sato.goto(link)  # used: it no longer works
    expect(sato.locator("h1")).to_have_count(1)
    expect(sato.locator("#id_new_password1")).to_have_count(0)
    context.close()


def test_forgotten_password_by_mail(page, web, team, smtp_capture):
    """Without an outgoing server the page says to ask an admin; with one, the address
    gets a mail (through the worker and the mailbox's SMTP server) whose link works."""
    page.goto(f"{web}/login/")
    page.click("a[href='/password/forgot/']")
    expect(page.locator(".password-ask-admin")).to_be_visible()
    shot(page, "password_forgot_no_mail_ja.png")
    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    user = team["sato"].user
    user.email = "sato@example.jp"
    user.save()
    page.reload()
    page.fill("#id_email", "sato@example.jp")
    shot(page, "password_forgot_ja.png")
    page.click("form.login button[type=submit]")
    expect(page.locator(".password-sent")).to_be_visible()
    shot(page, "password_forgot_sent_ja.png")
    wait_until(lambda: handler.received, "the reset mail reaches the SMTP server", timeout=30)
    (mail,) = handler.received
    assert mail.rcpts == ["sato@example.jp"]
    choose_new_password(page, link_in(mail.data), NEW)
    login(page, web, "sato", NEW)
    expect(page.locator(".rail .me")).to_have_text("佐藤 花子")
