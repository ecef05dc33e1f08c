"""In the browser: a stranger's mail in a conversation is marked, and the composer still
answers the customer; the stranger is added only by hand."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def test_the_composer_answers_the_customer_not_the_stranger(page, web, team):
    first = deliver(team["support"], make_mail(
        sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="振込先の確認",
        message_id="np1@tokyo-shoji.example", body="請求書を受け取りました。\n",
    ))  # fmt: skip
    assert first is not None
    deliver(team["support"], make_mail(
        sender="経理部 <keiri@evil.example>", subject="Re: 振込先の確認",
        in_reply_to="np1@tokyo-shoji.example", body="振込先が変わりました。こちらへ。\n",
    ))  # fmt: skip
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{first.conversation_id}/")
    expect(page.locator(".card.message")).to_have_count(2)
    badge = page.locator(".card.message").nth(1).locator(".newcomer")
    expect(badge).to_contain_text("keiri@evil.example")
    expect(page.locator(".card.message").first.locator(".newcomer")).to_have_count(0)
    expect(page.locator("#id_to")).to_have_value("田中 一郎 <tanaka@tokyo-shoji.example>")
    chip = page.locator("button.add-recipient")
    expect(chip).to_have_text("+ keiri@evil.example")
    page.locator(".composer").scroll_into_view_if_needed()
    shot(page, "new_participant_ja.png")
    chip.click()
    expect(page.locator("#id_to")).to_have_value(
        "田中 一郎 <tanaka@tokyo-shoji.example>, keiri@evil.example"
    )
    expect(chip).to_be_hidden()
