"""Search in a real browser: "/" focuses the box, Japanese words are found and marked,
the opened conversation marks them too, a saved search appears in the rail, and a
conversation operator narrows the results."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def test_search_from_the_keyboard_open_and_save(page, web, team):
    first = make_mail(
        subject="納期のご確認",
        sender="山田 <yamada@tokyo.example>",
        body="東京都庁への納品は来週です。\n",
        message_id="s1@x",
    )
    deliver(team["support"], first)
    deliver(
        team["support"], make_mail(subject="別件", body="関係ない話です。\n", message_id="s2@x")
    )
    login(page, web, "sato", "pw-sato-123")
    page.keyboard.press("/")
    expect(page.locator("#search-q")).to_be_focused()
    page.keyboard.type("納品 from:山田")
    page.keyboard.press("Enter")
    expect(page.locator(".results .row")).to_have_count(1)
    expect(page.locator(".results .snippet mark")).to_have_text("納品")
    shot(page, "search_results_ja.png")
    page.fill("#saved-name", "山田さんの納品")
    page.click(".saved-search button[type=submit]")
    expect(page.locator(".rail .saved a")).to_have_text("山田さんの納品")
    page.click(".results .row a")
    expect(page.locator(".timeline .body mark").first).to_have_text("納品")
    shot(page, "search_opened_ja.png")
    page.click(".rail .saved a")
    expect(page.locator(".results .row")).to_have_count(1)
    # a conversation operator (the filter goes into the full-text statement)
    page.fill("#search-q", "納品 status:新着")
    page.keyboard.press("Enter")
    expect(page.locator(".results .row")).to_have_count(1)
    page.fill("#search-q", "納品 status:完了")
    page.keyboard.press("Enter")
    expect(page.locator(".empty")).to_be_visible()
    expect(page.locator(".results .row")).to_have_count(0)
