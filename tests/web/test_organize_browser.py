"""Notes, tags and bulk changes in a real browser (Japanese UI)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.models import Conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def _seed(team, n: int) -> list[Conversation]:
    return [
        deliver(
            team["support"],
            make_mail(
                subject=f"お問い合わせ {i}",
                sender=f"顧客{i} <c{i}@example.com>",
                message_id=f"b{i}@example.com",
            ),
        ).conversation
        for i in range(n)
    ]


def test_select_rows_and_change_them_together(page, web, team):
    """Pick two rows with the mouse and the keyboard, hold them and tag them at once."""
    convs = _seed(team, 3)
    login(page, web, "sato", "pw-sato-123")
    page.locator(".row .pick").nth(0).check()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")  # selects the second row from the keyboard
    expect(page.locator(".bulk .picked")).to_have_text("2 件選択中")
    page.select_option("#bulk-assignee", "me")
    page.select_option("#bulk-status", "hold")
    page.fill("#bulk-tag", "請求")
    shot(page, "bulk_ja.png")
    page.click(".bulk button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("2 件の会話を変更しました")
    expect(page.locator(".row")).to_have_count(1)
    held = Conversation.objects.filter(status="hold")
    assert held.count() == 2
    assert all(c.assignee_id == team["sato"].user_id for c in held)
    page.click(".tabs a:has-text('保留')")
    expect(page.locator(".row .tag").first).to_have_text("請求")
    assert {c.pk for c in held} <= {c.pk for c in convs}


def test_note_and_tags_on_a_conversation(page, web, team):
    """A note shows between the messages, a tag can be added and removed; both are logged."""
    (conv,) = _seed(team, 1)
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.keyboard.press("n")
    expect(page.locator("#id_note")).to_be_focused()
    page.keyboard.type("先方には電話で確認済み")
    page.click(".note-form button")
    expect(page.locator(".card.note")).to_contain_text("先方には電話で確認済み")
    expect(page.locator(".card.note")).to_contain_text("社内メモ")
    page.fill("#id_tag", "VIP")
    page.click(".add-tag button")
    expect(page.locator(".tags .tag")).to_have_text("VIP")
    expect(page.locator(".timeline .activity").last).to_contain_text("タグ「VIP」を付けました")
    shot(page, "conversation_note_ja.png")
    page.click(".tag-chip button")
    expect(page.locator(".tags .tag")).to_have_count(0)
    expect(page.locator(".timeline .activity").last).to_contain_text("タグ「VIP」を外しました")


def test_sort_by_waiting_longest(page, web, team):
    """The waiting-longest sort puts the customer who wrote first on top, with their wait."""
    from datetime import timedelta

    from django.utils import timezone

    convs = _seed(team, 3)
    now = timezone.now()
    for hours, conv in zip([1, 5, 3], convs, strict=True):
        Conversation.objects.filter(pk=conv.pk).update(
            waiting_since=now - timedelta(hours=hours), last_activity_at=now
        )
    login(page, web, "sato", "pw-sato-123")
    page.click(".sort a:has-text('待ち時間が長い順')")
    expect(page.locator(".row .who")).to_have_text(["顧客1", "顧客2", "顧客0"])
    expect(page.locator(".row .age").first).to_have_text("5時間待ち")
