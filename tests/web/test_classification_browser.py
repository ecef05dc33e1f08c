"""Automated mail in a real browser: a customer's words stay in 新着; "not automated" for good."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.models import Conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def _notice(subject: str, message_id: str) -> bytes:
    """A mail from a shop system, marked automated by RFC 3834's Auto-Submitted."""
    return make_mail(
        subject=subject,
        sender="受注システム <order@shop.example>",
        message_id=message_id,
        headers={"Auto-Submitted": "auto-generated"},
    )


def test_customer_mail_stays_new_and_automated_mail_comes_back_for_good(page, web, team):
    box = team["support"]
    customer = make_mail(
        subject="返品の返送先を教えてください",
        sender="山田 太郎 <taro@customer.example>",
        message_id="ret1@customer.example",
    )
    deliver(box, customer)
    notice = _notice("ご注文を受け付けました", "n1@shop.example")
    hidden = deliver(box, notice).conversation
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/m/{box.pk}/new/")
    expect(page.locator(".row .subject")).to_have_count(1)
    expect(page.locator(".row .subject").first).to_contain_text("返品の返送先を教えてください")
    expect(page.locator(".row .hint")).to_have_text("自動送信の可能性")
    shot(page, "classification_new_ja.png")

    page.click(".tabs a:has-text('自動送信')")
    page.click(".row a:has-text('ご注文を受け付けました')")
    expect(page.locator("form.automated")).to_contain_text("根拠: Auto-Submitted: auto-generated")
    page.select_option("#always", "address")
    shot(page, "classification_automated_ja.png")
    page.click("form.automated button[type=submit]")
    expect(page.locator("form.automated")).to_have_count(0)
    expect(page.locator(".timeline .activity").last).to_contain_text("自動送信ではない")
    hidden.refresh_from_db()
    assert hidden.kind == "normal"

    later = _notice("発送しました", "n2@shop.example")
    conv = deliver(box, later).conversation
    assert Conversation.objects.get(pk=conv.pk).kind == "normal"
    page.goto(f"{web}/m/{box.pk}/new/")
    expect(page.locator(".row .subject", has_text="発送しました")).to_have_count(1)
    expect(page.locator(".row .subject", has_text="ご注文を受け付けました")).to_have_count(1)
    shot(page, "classification_back_ja.png")


def test_the_other_agent_sees_it_come_back_live(two, web, team, suzuki):
    """One agent says "not automated"; the other's open tab loses the banner and the tab moves."""
    box = team["support"]
    conv = deliver(box, _notice("在庫切れのお知らせ", "n3@shop.example")).conversation
    a, b = two
    login(a, web, "sato", "pw-sato-123")
    login(b, web, "suzuki", "pw-suzuki-123")
    b.goto(f"{web}/m/{box.pk}/auto/")
    expect(b.locator(f'.row[data-conv="{conv.pk}"]')).to_have_count(1)
    b.goto(f"{web}/c/{conv.pk}/")
    a.goto(f"{web}/c/{conv.pk}/")
    expect(b.locator("form.automated")).to_have_count(1)
    expect(b.locator("#presence")).to_have_text("佐藤 花子さんが表示中")
    a.click("form.automated button[type=submit]")
    expect(a.locator("form.automated")).to_have_count(0)
    expect(b.locator("form.automated")).to_have_count(0)  # without reloading
    expect(b.locator(".timeline .activity").last).to_contain_text("自動送信ではない")
    b.goto(f"{web}/m/{box.pk}/auto/")
    expect(b.locator(f'.row[data-conv="{conv.pk}"]')).to_have_count(0)
