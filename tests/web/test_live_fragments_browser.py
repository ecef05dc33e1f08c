"""Live updates by fragment, in Chromium: a change re-renders only what it affects.

The page never fetches itself again for an ordinary change: rows enter and leave the list,
counts and the timeline grow through ``/f/...``, and what the agent ticked, selected or was
typing stays as it was.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.conversations import actions
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def _mail(n: int, subject: str, **extra):
    return make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject=subject,
                     message_id=f"lf{n}@tokyo-shoji.example", **extra)  # fmt: skip


def _live_requests(page) -> list[str]:
    """The addresses the page's script fetches from now on (header X-Live)."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if r.headers.get("x-live") else None)
    return urls


def test_rows_enter_and_leave_while_ticks_and_selection_stay(page, web, team):
    support = team["support"]
    first = deliver(support, _mail(1, "見積の依頼")).conversation
    second = deliver(support, _mail(2, "請求書の宛名")).conversation
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/m/{support.pk}/new/")
    expect(page.locator(".row")).to_have_count(2)
    fetched = _live_requests(page)
    page.check(f'.row[data-conv="{first.pk}"] .pick')
    page.keyboard.press("j")  # selects the first row: the newest, the second mail
    expect(page.locator(f'.row[data-conv="{second.pk}"]')).to_have_class("row unread selected")
    page.fill("#bulk-tag", "至急")
    third = deliver(support, _mail(3, "納期の前倒し")).conversation  # another process
    expect(page.locator(".row")).to_have_count(3)
    expect(page.locator(".row").first).to_contain_text("納期の前倒し")
    expect(page.locator('[data-live="rail"] .count')).to_have_text("3")
    expect(page.locator(".tabs a").first.locator(".count")).to_have_text("3")
    actions.change_status(second, "done", actor_id=team["sato"].user_id)
    expect(page.locator(f'.row[data-conv="{second.pk}"]')).to_have_count(0)
    expect(page.locator(".tabs a").first.locator(".count")).to_have_text("2")
    expect(page.locator(".tabs a").nth(3).locator(".count")).to_have_text("1")
    actions.tag_conversation(first, "見積", actor_id=team["sato"].user_id)
    expect(page.locator(f'.row[data-conv="{first.pk}"] .tag')).to_have_text("見積")
    expect(page.locator(f'.row[data-conv="{first.pk}"] .pick')).to_be_checked()
    expect(page.locator("#bulk-tag")).to_have_value("至急")
    assert [r.pk for r in (third, first)] == [
        int(v) for v in page.locator(".row").evaluate_all("rs => rs.map(r => r.dataset.conv)")
    ]
    shot(page, "live_fragment_list_ja.png")
    assert fetched and all("/f/" in url for url in fetched), fetched


def test_the_last_row_leaving_shows_the_empty_list_and_a_new_one_hides_it(page, web, team):
    support = team["support"]
    only = deliver(support, _mail(10, "一件だけ")).conversation
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/m/{support.pk}/new/")
    expect(page.locator(".empty")).to_be_hidden()
    actions.change_status(only, "hold", actor_id=None)
    expect(page.locator(".row")).to_have_count(0)
    expect(page.locator(".empty")).to_be_visible()
    expect(page.locator("#bulk")).to_be_hidden()
    deliver(support, _mail(11, "二件目"))
    expect(page.locator(".row")).to_have_count(1)
    expect(page.locator(".empty")).to_be_hidden()
    expect(page.locator("#bulk")).to_be_visible()


def test_the_timeline_grows_and_the_meta_changes_while_a_reply_is_typed(page, web, team):
    support = team["support"]
    conv = deliver(support, _mail(20, "返品の件")).conversation
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    fetched = _live_requests(page)
    page.fill("#id_text", "確認いたします。")
    page.fill("#id_note", "書きかけのメモ")
    actions.add_note(conv, author_id=team["sato"].user_id, text="倉庫に確認済み")
    expect(page.locator(".timeline .note.fresh")).to_contain_text("倉庫に確認済み")
    reply = _mail(21, "Re: 返品の件", in_reply_to="lf20@tokyo-shoji.example",
                  body="追加の写真を送ります。\n")  # fmt: skip
    deliver(support, reply)
    expect(page.locator(".timeline .card.message")).to_have_count(2)
    expect(page.locator(".timeline .card.message").last).to_contain_text("追加の写真を送ります")
    actions.change_status(conv, "hold", actor_id=team["sato"].user_id)
    expect(page.locator(".meta .status")).to_have_text("保留")
    pressed = page.locator('.set-status button[aria-pressed="true"]')
    expect(pressed).to_have_text("保留")  # the status buttons follow too
    expect(page.locator(".timeline .activity").last).to_contain_text("保留")
    expect(page.locator("#id_text")).to_have_value("確認いたします。")
    expect(page.locator("#id_note")).to_have_value("書きかけのメモ")
    ids = page.locator(".timeline > li").evaluate_all("ls => ls.map(l => l.id)")
    assert len(ids) == len(set(ids))  # nothing shown twice
    shot(page, "live_fragment_timeline_ja.png")
    assert fetched and all("/f/" in url for url in fetched), fetched
