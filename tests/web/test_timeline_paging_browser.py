"""In the browser: a flooded conversation opens on its newest messages, and the older ones
are a click away."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.queries import TIMELINE_PAGE
from tests.web.browser import login, shot
from tests.web.test_timeline_paging import flood

pytestmark = pytest.mark.browser


def test_older_messages_open_from_the_link(page, web, team):
    first = flood(team["support"], 500)
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{first.conversation_id}/")
    cards = page.locator(".card.message")
    expect(cards).to_have_count(TIMELINE_PAGE + 1)
    expect(cards.first).to_contain_text("最初")
    expect(cards.last).to_contain_text("本文 499")
    gap = page.locator("#older")
    expect(gap).to_contain_text(re.compile("以前のメッセージを表示|Show earlier messages"))
    gap.scroll_into_view_if_needed()
    shot(page, "timeline_paging_ja.png")
    gap.locator("a").click()
    expect(cards.nth(1)).to_contain_text("本文 400")
    expect(cards.last).to_contain_text("本文 449")
    expect(page.locator("#newer a")).to_be_visible()
    page.locator("#newer a").click()
    expect(cards.last).to_contain_text("本文 499")
