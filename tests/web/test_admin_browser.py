"""Admin pages in a real browser: a mailbox on a real IMAP server, and an invitation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Role
from madoguchi.mailboxes.models import Mailbox
from tests.servers import free_port
from tests.web.browser import SHOTS, login, shot


def shot_path(name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name


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
    page.evaluate("window.notReloaded = true")
    page.click("#section-imap button:has-text('IMAP 接続をテスト')")
    # the answer comes beside the button, in the IMAP section, without a reload
    expect(page.locator("#section-imap #check-imap")).to_contain_text(re.compile("ログイン|login"))
    expect(page.locator("#check-imap")).to_have_class("check error")
    assert page.evaluate("window.notReloaded") is True
    assert not Mailbox.objects.filter(address="info@example.jp").exists()
    page.fill("#id_imap_password", dovecot.password)
    page.click("#section-imap button:has-text('IMAP 接続をテスト')")
    expect(page.locator("#check-imap")).to_contain_text("INBOX")
    expect(page.locator("#check-imap")).to_have_class("check ok")
    page.fill("#id_smtp_host", "127.0.0.1")
    page.fill("#id_smtp_port", str(free_port()))
    page.select_option("#id_smtp_security", "none")
    page.click("#section-smtp button:has-text('SMTP 接続をテスト')")
    expect(page.locator("#section-smtp #check-smtp")).to_contain_text(re.compile("ポート|port"))
    assert page.evaluate("window.notReloaded") is True
    page.locator("#section-smtp").scroll_into_view_if_needed()
    shot(page, "admin_mailbox_ja.png")
    page.locator("#section-imap").screenshot(path=str(shot_path("admin_mailbox_imap_ja.png")))
    page.locator("#section-smtp").screenshot(path=str(shot_path("admin_mailbox_smtp_ja.png")))
    page.fill("#id_smtp_host", "")
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


def test_mailboxes_whose_passwords_cannot_be_read_are_listed(page, web, team):
    """After a change of the secret key: a notice names them; the page opens; retype, save."""
    from cryptography.fernet import Fernet

    from madoguchi.core.crypto import LostSecret

    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN, display_name="社長")
    support = team["support"]
    unreadable = Fernet(Fernet.generate_key()).encrypt(b"old-password").decode()
    Mailbox.objects.filter(pk=support.pk).update(
        imap_host="imap.example.jp", imap_user="support", imap_password=LostSecret(unreadable)
    )
    login(page, web, "boss", "pw-boss-1234")
    page.goto(f"{web}/admin/mailboxes/")
    notice = page.locator("#lost-passwords")
    expect(notice).to_contain_text("support@example.jp")
    expect(notice).to_contain_text("IMAP")
    shot(page, "admin_mailboxes_lost_ja.png")
    notice.locator("a:has-text('support@example.jp')").click()
    expect(page.locator("#lost-passwords")).to_be_visible()
    page.fill("#id_imap_password", "new-password")
    page.click("button.primary:has-text('保存')")
    expect(page.locator(".flash")).to_contain_text("保存しました")
    expect(page.locator("#lost-passwords")).to_have_count(0)
    assert Mailbox.objects.get(pk=support.pk).imap_password == "new-password"
