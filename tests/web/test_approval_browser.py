"""Approval end to end in Chromium: an agent asks, a manager sends back, then edits and
approves; the customer's SMTP server gets the approved text; both are told live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Role
from madoguchi.mail import parse
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.waiting import wait_until
from tests.web.browser import login, shot

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
    wait_until(lambda: handler.received, "the approved reply reaches the SMTP server")
    assert len(handler.received) == 1
    sent = parse(handler.received[0].data)
    assert "ご不便をおかけしました" in sent.text and sent.sender.email == "support@example.jp"
    assert sent.sender.name.startswith("佐藤 花子")  # sent as the author, from the shared address
    expect(agent.locator(".card.out .delivery").last).to_have_text("送信済み")
    shot(agent, "approval_sent_ja.png")


def test_the_reviewer_sees_exactly_what_leaves_beside_the_customers_mail(
    page, web, team, smtp_capture
):
    """The review shows From, To, Cc, Bcc, subject, files, the text and the HTML (sandboxed,
    each link's real address beside it) next to the customer's mail; a reply whose stored
    bytes changed after the page was drawn is refused with a message, then approved as shown."""
    from madoguchi.mail import Address
    from madoguchi.mail.compose import OutAttachment
    from madoguchi.mail.rich import rich_to_text
    from madoguchi.mail_out import actions
    from madoguchi.mail_out.models import Outbox

    ctl, handler = smtp_capture
    boss = create_agent("boss", password="pw-boss-123", display_name="山本 部長", role=Role.MANAGER)
    add_member(team["support"], boss.user)
    support = update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port,
                             smtp_security="none", undo_seconds=0,
                             replies_need_approval=True)  # fmt: skip
    mail = make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="返品の件",
                     body="先日購入したプリンターを返品したいのですが、手続きを教えてください。\n",
                     message_id="apb2@tokyo-shoji.example")  # fmt: skip
    conv = deliver(support, mail).conversation
    link = '<a href="https://evil.example/login">https://shop.example/returns</a>'
    html = f"<p>返品はこちらからお手続きください: {link}</p>"
    message = actions.queue_reply(
        conv, author=team["sato"].user, text=rich_to_text(html), html=html,
        to=[Address("田中 一郎", "tanaka@tokyo-shoji.example")],
        cc=[Address("鈴木", "suzuki@tokyo-shoji.example")],
        attachments=[OutAttachment("返品票.pdf", "application/pdf", b"%PDF-1.4 " * 300)],
    )  # fmt: skip
    login(page, web, "boss", "pw-boss-123")
    page.goto(f"{web}/approvals/")
    review = page.locator(".review")
    expect(review.locator(".answers")).to_contain_text("プリンターを返品したい")
    expect(review.locator(".mail-headers .to")).to_contain_text("tanaka@tokyo-shoji.example")
    expect(review.locator(".mail-headers .cc")).to_contain_text("suzuki@tokyo-shoji.example")
    expect(review.locator(".mail-headers .bcc")).to_have_text("—")
    expect(review.locator(".mail-headers .files")).to_contain_text("返品票.pdf")
    frame = page.frame_locator("iframe.sent-html")
    expect(frame.locator("body")).to_contain_text("[https://evil.example/login]")
    expect(frame.locator("a")).to_have_text("https://shop.example/returns")
    shot(page, "approval_review_ja.png")
    # the mail changes under the open page (as a later edit of a waiting reply would)
    Outbox.objects.filter(message=message).update(data=bytes(message.outbox.data) + b" ")
    page.click(".review button[value=approve]")
    expect(page.locator(".flash, .messages, [role=alert]").first).to_be_visible()
    assert Outbox.objects.get(message=message).status == "approval"
    shot(page, "approval_changed_ja.png")
    page.goto(f"{web}/approvals/")
    page.click(".review button[value=approve]")
    expect(page.locator(".empty")).to_be_visible()
    wait_until(lambda: handler.received, "the approved reply reaches the SMTP server")
    [sent] = handler.received
    assert sorted(sent.rcpts) == ["suzuki@tokyo-shoji.example", "tanaka@tokyo-shoji.example"]
