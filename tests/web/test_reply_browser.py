"""Replying in the browser: the customer gets it from the shared address and can answer."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.models import Conversation
from madoguchi.mail import parse
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.conftest import login, shot

pytestmark = pytest.mark.browser


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return result


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
    sent = wait_for(lambda: handler.received)
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
