"""Admin pages in a real browser: a mailbox on a real IMAP server, and an invitation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Role
from madoguchi.mailboxes.models import Mailbox
from tests.web.conftest import login, shot

pytestmark = pytest.mark.browser


def test_add_a_mailbox_and_test_its_imap_connection(page, web, team, dovecot):
    """Wrong password: the page says the server refused the login; right: it works; saved."""
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN, display_name="社長")
    login(page, web, "boss", "pw-boss-1234")
    page.click(".rail a:has-text('受信箱'):below(h2:has-text('管理'))")
    page.click("a:has-text('受信箱を追加')")
    page.fill("#id_address", "info@example.jp")
    page.fill("#id_name", "お問い合わせ")
    page.fill("#id_signature", "窓口チーム\nhttps://example.jp")
    page.fill("#id_imap_host", dovecot.host)
    page.fill("#id_imap_port", str(dovecot.port))
    page.select_option("#id_imap_security", "none")
    page.fill("#id_imap_user", dovecot.user)
    page.fill("#id_imap_password", "wrong-password")
    page.check("#id_members label:has-text('佐藤 花子') input")
    page.click("button:has-text('IMAP 接続をテスト')")
    expect(page.locator("#check-imap")).to_contain_text("ログイン")
    expect(page.locator("#check-imap")).to_have_class("check error")
    assert not Mailbox.objects.filter(address="info@example.jp").exists()
    # the form keeps what was typed except the password, which is never sent back
    expect(page.locator("#id_imap_host")).to_have_value(dovecot.host)
    page.fill("#id_imap_password", dovecot.password)
    page.click("button:has-text('IMAP 接続をテスト')")
    expect(page.locator("#check-imap")).to_contain_text("INBOX")
    shot(page, "admin_mailbox_ja.png")
    page.fill("#id_imap_password", dovecot.password)
    page.click("button.primary:has-text('保存')")
    expect(page.locator(".flash")).to_contain_text("保存しました")
    mailbox = Mailbox.objects.get(address="info@example.jp")
    assert mailbox.imap_password == dovecot.password
    assert mailbox.memberships.filter(user=team["sato"].user).exists()
    expect(page.locator("#id_imap_password")).to_have_value("")


def test_invite_someone_who_then_joins(page, web, team, browser):
    """An admin makes an invitation link; the invited person opens it, joins, sees the inbox."""
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN, display_name="社長")
    login(page, web, "boss", "pw-boss-1234")
    page.goto(f"{web}/admin/team/")
    page.fill("#id_email", "yamada@example.jp")
    page.check("label:has-text('support@example.jp') input")
    page.click("button:has-text('招待リンクを作成')")
    link = page.locator("#invite-link").input_value()
    assert "/invite/" in link
    expect(page.locator(".pending")).to_contain_text("yamada@example.jp")
    shot(page, "admin_team_ja.png")
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    newcomer = context.new_page()
    newcomer.goto(link)
    expect(newcomer.locator(".login")).to_contain_text("社長 さんがあなたをチームに招待しています")
    newcomer.fill("#id_username", "yamada")
    newcomer.fill("#id_display_name", "山田 太郎")
    newcomer.fill("#id_password", "kinmokusei-2026")
    newcomer.fill("#id_password_again", "kinmokusei-2026")
    newcomer.click("button:has-text('チームに参加')")
    expect(newcomer.locator(".rail")).to_contain_text("サポート窓口")
    expect(newcomer.locator(".rail .me")).to_have_text("山田 太郎")
    context.close()
