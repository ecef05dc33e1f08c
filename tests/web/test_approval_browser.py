"""Approval end to end in Chromium: an agent asks, a manager sends back, then edits and
approves; the customer's SMTP server gets the approved text; both are told live."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Role
from madoguchi.mail import parse
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.conftest import login, shot

pytestmark = pytest.mark.browser


def test_a_reply_is_sent_back_then_edited_and_approved(two, web, team, smtp_capture):
    ctl, handler = smtp_capture
    boss = create_agent("boss", password="pw-boss-123", display_name="山本 部長", role=Role.MANAGER)
    add_member(team["support"], boss.user)
    support = update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port,
                             smtp_security="none", undo_seconds=0,
                             replies_need_approval=True)  # fmt: skip
    mail = make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="返品の件",
                     message_id="apb1@tokyo-shoji.example")  # fmt: skip
    conv = deliver(support, mail).conversation
    agent, manager = two
    login(agent, web, "sato", "pw-sato-123")
    login(manager, web, "boss", "pw-boss-123")
    manager.goto(f"{web}/approvals/")
    expect(manager.locator(".empty")).to_be_visible()
    agent.goto(f"{web}/c/{conv.pk}/")
    expect(agent.locator("#reply")).to_have_text("承認を依頼")
    agent.fill("#id_text", "返品を承ります。")
    agent.click("#reply")
    expect(agent.locator(".card.out .delivery")).to_have_text("承認待ち")
    # the manager's queue fills without a reload
    expect(manager.locator(".review")).to_have_count(1)
    expect(manager.locator("a.bell .count")).to_have_text("1")
    shot(manager, "approval_queue_ja.png")
    manager.fill(".review textarea[name=comment]", "送料について一言添えてください")
    manager.click(".review button[value=return]")
    expect(manager.locator(".flash")).to_contain_text("差し戻しました")
    # the author is told live, finds the comment and their text again
    expect(agent.locator("a.bell .count")).to_have_text("1")
    agent.click("a.bell")
    expect(agent.locator(".notifications li").first).to_contain_text(
        "山本 部長さんがあなたの返信を差し戻しました"
    )
    agent.locator(".notifications li a").first.click()
    expect(agent.locator(".timeline .note")).to_contain_text("送料について一言添えてください")
    expect(agent.locator(".card.out .delivery")).to_have_text("差し戻し")
    expect(agent.locator("#id_text")).to_have_value("返品を承ります。")
    agent.fill("#id_text", "返品を承ります。送料は弊社で負担いたします。")
    agent.click("#reply")
    expect(agent.locator(".card.out .delivery").last).to_have_text("承認待ち")
    manager.goto(f"{web}/approvals/")
    box = manager.locator(".review textarea[name=text]")
    expect(box).to_have_value(re.compile(r"^返品を承ります。送料は弊社で負担いたします。\s*$"))
    box.fill("返品を承ります。送料は弊社で負担いたします。ご不便をおかけしました。")
    manager.click(".review button[value=approve]")
    expect(manager.locator(".empty")).to_be_visible()
    deadline = time.monotonic() + 20
    while not handler.received and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(handler.received) == 1
    sent = parse(handler.received[0].data)
    assert "ご不便をおかけしました" in sent.text and sent.sender.email == "support@example.jp"
    assert sent.sender.name.startswith("佐藤 花子")  # sent as the author, from the shared address
    expect(agent.locator(".card.out .delivery").last).to_have_text("送信済み")
    shot(agent, "approval_sent_ja.png")
