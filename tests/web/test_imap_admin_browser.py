"""An admin adds a mailbox with an IMAP account; its mail arrives without a restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Role
from madoguchi.mailboxes.models import Mailbox
from tests.mailmaker import make_mail
from tests.web.browser import login, shot
from tests.web.server import web_process

pytestmark = pytest.mark.browser


@pytest.fixture
def running(transactional_db, monkeypatch) -> Iterator[str]:
    """`madoguchi run web worker imap`, started before any mailbox exists."""
    monkeypatch.setenv("MADOGUCHI_IMAP_RESCAN_SECONDS", "1")
    with web_process("web", "worker", "imap") as base:
        yield base


def test_a_mailbox_added_on_the_admin_page_is_fetched_at_once(page, running, dovecot):
    """The IMAP account already holds a mail; once the admin saves the new mailbox, the
    running process fetches it and the mail shows in that mailbox's inbox."""
    dovecot.deliver(
        make_mail(
            subject="請求書の再発行について",
            sender="山田 太郎 <yamada@client.example>",
            message_id="invoice@client.example",
            body="先月分の請求書を再発行していただけますか。\n",
        )
    )
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN, display_name="社長")
    login(page, running, "boss", "pw-boss-1234")
    page.goto(f"{running}/admin/mailboxes/new")
    page.fill("#id_address", "info@example.jp")
    page.fill("#id_name", "お問い合わせ")
    page.fill("#id_imap_host", dovecot.host)
    page.fill("#id_imap_port", str(dovecot.port))
    page.select_option("#id_imap_security", "none")
    page.fill("#id_imap_user", dovecot.user)
    page.fill("#id_imap_password", dovecot.password)
    page.click("button.primary:has-text('保存')")
    expect(page.locator(".flash")).to_contain_text("保存しました")
    mailbox = Mailbox.objects.get(address="info@example.jp")

    page.goto(f"{running}/m/{mailbox.pk}/new/")
    row = page.locator(".row", has_text="請求書の再発行について")
    # taken within a rescan (1 s here); if that is after the page loaded, it comes live
    expect(row).to_be_visible(timeout=30_000)
    expect(row).to_contain_text("山田 太郎")
    shot(page, "imap_admin_mailbox_fetched_ja.png")
