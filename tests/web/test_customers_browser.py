"""Customers in a real browser: from a conversation to the customer's page, editing the
details and a team field, merging another customer in and taking it back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.customers import actions
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def test_customer_page_edit_merge_and_undo(page, web, team):
    actions.save_field(actor_id=None, key="plan", label="契約プラン", kind="choice",
                       choices=["ゴールド", "シルバー"])  # fmt: skip
    yamada = "山田 太郎 <yamada@tokyo-shoji.example>"
    deliver(team["support"], make_mail(subject="納期のご確認", message_id="c1@x", sender=yamada))
    deliver(team["support"], make_mail(subject="請求書の再発行", message_id="c2@x",
                                       sender="山田 <t.yamada@gmail.com>"))  # fmt: skip
    login(page, web, "sato", "pw-sato-123")
    page.click("text=納期のご確認")
    page.click("aside.customer .name a")
    expect(page.locator("h1")).to_contain_text("山田 太郎")
    page.fill("input[name=company]", "東京商事株式会社")
    page.fill("input[name=phone]", "03-1234-5678")
    page.select_option("select[name=field_plan]", "ゴールド")
    page.fill("textarea[name=notes]", "経理部の窓口。請求書は PDF で送付。")
    page.click(".customer-form button.primary")
    expect(page.locator(".flash")).to_contain_text("保存しました")
    expect(page.locator("select[name=field_plan]")).to_have_value("ゴールド")
    page.fill(".merge-form input[name=other]", "t.yamada@gmail.com")
    page.click(".merge-form button")
    expect(page.locator(".addresses li")).to_have_count(2)
    expect(page.locator(".history-list li")).to_have_count(2)
    shot(page, "customer_page_merged_ja.png")
    page.click(".merges button")
    expect(page.locator(".flash")).to_contain_text("統合を取り消しました")
    expect(page.locator(".addresses li")).to_have_count(1)
    expect(page.locator(".history-list li")).to_have_count(1)
    page.click("a[href='/customers/']")
    expect(page.locator(".customer-table tbody tr")).to_have_count(2)
    shot(page, "customer_list_ja.png")


def test_links_and_the_information_panel(page, web, team):
    from django.core.cache import cache

    from tests.customers.test_panel import Source

    cache.clear()
    source = Source()
    try:
        actions.save_panel(
            team["support"].pk, actor_id=None,
            links=[("受注管理で注文を見る", "https://orders.example/o/{order}"),
                   ("Salesforceで開く", "https://crm.example/search?q={email}")],
            order_pattern=r"ORD-(\d+)", source_url=f"{source.url}/customers?email={{email}}",
            source_header="", source_secret=None, timeout_ms=2000, cache_seconds=60,
        )  # fmt: skip
        deliver(team["support"], make_mail(subject="ORD-2024 の納期について", message_id="p1@x",
                                           sender="山田 <yamada@tokyo-shoji.example>"))  # fmt: skip
        login(page, web, "sato", "pw-sato-123")
        page.click("text=ORD-2024 の納期について")
        expect(page.locator(".customer-links a").first).to_have_attribute(
            "href", "https://orders.example/o/2024"
        )
        expect(page.locator(".customer-info dt").first).to_have_text("会員番号")
        expect(page.locator(".customer-info dd").first).to_have_text("A-1001")
        shot(page, "customer_panel_ja.png")
    finally:
        source.release.set()
        source.server.shutdown()
