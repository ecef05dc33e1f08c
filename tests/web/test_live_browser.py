"""Live screens in Chromium: two agents in two browser contexts, one or two web processes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from madoguchi.conversations import actions
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.waiting import wait_until
from tests.web.browser import login, shot
from tests.web.server import web_process

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _mail(n: int, subject: str = "納期の確認"):
    return make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject=subject,
                     message_id=f"lb{n}@tokyo-shoji.example")  # fmt: skip


def test_two_agents_see_each_other_and_only_one_reply_leaves(two, web, team, suzuki, smtp_capture):
    ctl, handler = smtp_capture
    support = update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port,
                             smtp_security="none", undo_seconds=0)  # fmt: skip
    conv = deliver(support, _mail(1)).conversation
    a, b = two
    login(a, web, "sato", "pw-sato-123")
    login(b, web, "suzuki", "pw-suzuki-123")
    b.goto(f"{web}/m/{support.pk}/new/")
    a.goto(f"{web}/c/{conv.pk}/")
    expect(b.locator(f'.row[data-conv="{conv.pk}"] .presence')).to_have_text("佐藤 花子 表示中")
    shot(b, "live_list_presence_ja.png")
    b.goto(f"{web}/c/{conv.pk}/")
    expect(b.locator("#presence")).to_have_text("佐藤 花子さんが表示中")
    expect(a.locator("#presence")).to_have_text("鈴木 一郎さんが表示中")
    a.fill("#id_text", "佐藤です。明日発送いたします。")
    expect(b.locator("#presence")).to_have_text("佐藤 花子さんが返信中")
    shot(b, "live_conversation_replying_ja.png")
    b.fill("#id_text", "鈴木です。本日発送済みです。")
    expect(a.locator("#presence")).to_have_text("鈴木 一郎さんが返信中")
    a.click("#reply", no_wait_after=True)  # both press send at the same moment
    b.click("#reply", no_wait_after=True)
    for p in (a, b):  # each has its answer: sent (redirected to it) or refused (409)
        expect(p).to_have_url(re.compile(rf"/c/{conv.pk}/(reply|\?sent=\d+)"))
    # Both sends are answered, so every reply there will be is in the outbox; once the
    # worker has sent them all, the SMTP server has every mail it will get.
    outbox = Outbox.objects.filter(message__conversation=conv)
    wait_until(lambda: outbox.exists() and not outbox.exclude(status="sent").exists(),
               "the worker sends every queued reply")  # fmt: skip
    assert outbox.count() == 1
    assert len(handler.received) == 1
    refused = [p for p in (a, b) if p.locator("#stale").count()]
    assert len(refused) == 1
    loser = refused[0]
    expect(loser.locator("#stale h3")).to_have_text(
        "送信していません: 書いている間にこの会話が変わりました"
    )
    expect(loser.locator("#reply")).to_have_text("このまま送信")
    sent_text = handler.received[0].data.decode("utf-8", "replace")
    winner_name = "佐藤" if loser is b else "鈴木"
    expect(loser.locator("#stale li")).to_contain_text(f"{winner_name}")
    assert conv.messages.filter(direction="out").count() == 1
    assert ("Content-Transfer-Encoding" in sent_text) and handler.received[0].rcpts
    shot(loser, "live_send_guard_refused_ja.png")
    loser.click("#stale button.danger")  # discard the reply
    expect(loser.locator("#stale")).to_have_count(0)
    expect(loser.locator("#id_text")).to_have_value("")


def test_lists_and_counts_follow_new_mail_and_assignments(two, web, team, suzuki):
    support = team["support"]
    deliver(support, _mail(10, "最初の問い合わせ"))
    a, b = two
    login(a, web, "sato", "pw-sato-123")
    login(b, web, "suzuki", "pw-suzuki-123")
    b.goto(f"{web}/m/{support.pk}/new/")
    expect(b.locator(".row")).to_have_count(1)
    conv = deliver(support, _mail(11, "新しい問い合わせ")).conversation  # another process
    expect(b.locator(".row")).to_have_count(2)
    expect(b.locator(".row").first).to_contain_text("新しい問い合わせ")
    expect(b.locator('[data-live="rail"] .count')).to_have_text("2")
    expect(b.locator('[data-live="unassigned"] .count')).to_have_text("2")
    a.goto(f"{web}/c/{conv.pk}/")
    a.click("button[data-key=a]")  # Sato takes it: it leaves "new" on Suzuki's screen
    expect(b.locator(".row")).to_have_count(1)
    expect(b.locator(".tabs a").first.locator(".count")).to_have_text("1")
    expect(b.locator('[data-live="unassigned"] .count')).to_have_text("1")
    b.goto(f"{web}/c/{conv.pk}/")
    actions.add_note(conv, author_id=team["sato"].user.pk, text="先方に電話済み")
    expect(b.locator(".timeline .note")).to_contain_text("先方に電話済み")
    expect(b.locator(".timeline .note.fresh")).to_have_count(1)
    shot(b, "live_timeline_note_ja.png")


def test_a_change_in_one_web_process_shows_in_a_browser_on_another(two, web, team, suzuki):
    conv = deliver(team["support"], _mail(20)).conversation
    with web_process("web") as other:
        a, b = two
        login(a, web, "sato", "pw-sato-123")
        login(b, other, "suzuki", "pw-suzuki-123")
        b.goto(f"{other}/c/{conv.pk}/")
        a.goto(f"{web}/c/{conv.pk}/")
        expect(b.locator("#presence")).to_have_text("佐藤 花子さんが表示中")
        a.click('.set-status button[value="hold"]')
        expect(b.locator(".meta .status")).to_have_text("保留")
        shot(b, "live_other_process_ja.png")


RECORD_NOTIFICATIONS = """
window.__shown = [];
window.Notification = function (title, options) { window.__shown.push([title, options.body]); };
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
document.hasFocus = function () { return false; };
"""


def test_a_mention_rings_the_bell_and_the_browser(two, web, team, suzuki):
    conv = deliver(team["support"], _mail(30, "請求書の再発行")).conversation
    a, b = two
    b.add_init_script(RECORD_NOTIFICATIONS)  # the page is in the background
    login(a, web, "sato", "pw-sato-123")
    login(b, web, "suzuki", "pw-suzuki-123")
    b.goto(f"{web}/m/{team['support'].pk}/new/")
    expect(b.locator("a.bell .count")).to_have_count(0)
    a.goto(f"{web}/c/{conv.pk}/")
    a.fill("#id_note", "@鈴木一郎さん 再発行の手配をお願いします")
    a.click("button[data-key-target=n]")
    expect(b.locator("a.bell .count")).to_have_text("1")
    b.wait_for_function("window.__shown.length === 1")
    title, body = b.evaluate("window.__shown[0]")
    assert title == "佐藤 花子さんがメモであなたをメンションしました"
    assert body == f"#{conv.pk} 請求書の再発行"
    b.click("a.bell")
    expect(b.locator(".notifications li.unread")).to_have_count(1)
    shot(b, "notifications_ja.png")
    b.locator(".notifications li a").first.click()
    expect(b.locator(".timeline .note")).to_contain_text("再発行の手配をお願いします")
    expect(b.locator("a.bell .count")).to_have_count(0)
