"""Replying in the browser: the customer gets it from the shared address and can answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.models import Conversation
from madoguchi.mail import parse
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.waiting import wait_until
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def test_reply_from_the_browser_threads_both_ways(page, web, team, smtp_capture):
    """Reply and mark done: the SMTP server gets a threaded mail; the answer reopens it."""
    ctl, handler = smtp_capture
    support = update_mailbox(
        team["support"],
        smtp_host="127.0.0.1",
        smtp_port=ctl.port,
        smtp_security="none",
        undo_seconds=0,
    )
    first = deliver(
        support,
        make_mail(
            sender="田中 一郎 <tanaka@tokyo-shoji.example>",
            subject="見積もりのお願い",
            message_id="b1@tokyo-shoji.example",
        ),
    )
    conv = first.conversation
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    expect(page.locator("#id_to")).to_have_value("田中 一郎 <tanaka@tokyo-shoji.example>")
    page.fill("#id_text", "お見積もりを添付のとおりお送りいたします。")
    shot(page, "composer_ja.png")
    page.click("button[name=then][value=done]")
    expect(page.locator(".meta .status")).to_have_text("対応完了")
    sent = wait_until(lambda: handler.received, "the reply reaches the SMTP server")
    mail = parse(sent[0].data)
    assert mail.sender is not None and mail.sender.email == "support@example.jp"
    assert mail.in_reply_to == "b1@tokyo-shoji.example"
    page.reload()
    expect(page.locator(".card.out .delivery")).to_have_text("送信済み")
    answer = deliver(
        support,
        make_mail(
            sender="田中 一郎 <tanaka@tokyo-shoji.example>",
            subject="Re: 見積もりのお願い",
            in_reply_to=mail.message_id,
        ),
    )
    assert answer.conversation_id == conv.pk
    assert Conversation.objects.get(pk=conv.pk).status == "open"  # reopened, still Sato's
    page.reload()
    expect(page.locator(".card.message")).to_have_count(3)
    shot(page, "conversation_replied_ja.png")


def test_empty_reply_is_refused_beside_the_field(page, web, team):
    """Sending without text or with a bad address shows the error next to that field."""
    first = deliver(team["support"], make_mail(message_id="b2@c.example"))
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{first.conversation_id}/")
    page.fill("#id_to", "not an address")
    page.click("button[name=then][value=send]")
    expect(page.locator(".field.invalid")).to_have_count(2)
    expect(page.locator(".field.invalid").first).to_contain_text("not")


def test_undo_within_the_window(page, web, team, smtp_capture):
    """Right after sending an Undo button is offered; pressing it takes the reply back."""
    ctl, handler = smtp_capture
    update_mailbox(
        team["support"],
        smtp_host="127.0.0.1",
        smtp_port=ctl.port,
        smtp_security="none",
        undo_seconds=60,
    )
    first = deliver(team["support"], make_mail(message_id="b3@c.example"))
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{first.conversation_id}/")
    page.fill("#id_text", "やはり取り消します")
    page.click("button[name=then][value=send]")
    page.click(".undo button")
    expect(page.locator(".card.out .delivery")).to_have_text("取り消し済み")
    assert handler.received == []


def test_the_first_reply_from_the_demo_mailbox(page, web):
    """The demo mailbox has no outgoing server: the composer says so, shows the sender as
    a name and an address (not a quoted string); the reply is "sent" into the local sink
    at once, marked as a demo, and readable as the raw mail."""
    from madoguchi import demo
    from madoguchi.accounts.actions import add_member, create_agent

    mailbox = demo.ensure_demo()
    kimura = create_agent("kimura", password="pw-kimura-123", display_name="木村 花子")
    add_member(mailbox, kimura.user)
    conv = Conversation.objects.filter(mailbox=mailbox, subject__contains="見積もり").first()
    login(page, web, "kimura", "pw-kimura-123")
    page.goto(f"{web}/c/{conv.pk}/")
    expect(page.locator(".composer .sender .addr-name")).to_have_text("木村 花子 (サポート窓口)")
    expect(page.locator(".composer .sender .addr")).to_have_text(f"<{demo.ADDRESS}>")
    expect(page.locator(".composer .sender")).not_to_contain_text('"')
    expect(page.locator(".composer .demo-note")).to_be_visible()
    page.fill("#id_text", "お見積もりをお送りします。")
    page.click("#reply")
    out = page.locator(".card.out").last
    expect(out.locator(".delivery")).to_have_text("送信済み", timeout=30_000)
    expect(out.locator(".demo-note")).to_be_visible()
    expect(out.locator(".delivery-help")).to_have_count(0)
    expect(out.locator(".undo")).to_have_count(0)
    shot(page, "demo_reply_kept_locally_ja.png")
    raw = page.request.get(web + out.locator(".demo-note a").get_attribute("href"))
    assert raw.ok and "お見積もりをお送りします" in parse(raw.body()).text
