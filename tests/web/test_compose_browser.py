"""The composer in a real browser: rich text, attachments, the size limit, drafts, forward
and a new conversation, with the mail checked at a real SMTP server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.conversations.models import Conversation
from madoguchi.mail import parse
from madoguchi.mail_out.models import Draft
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.waiting import wait_until
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def sending(team, smtp_capture):
    ctl, handler = smtp_capture
    support = update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port,
                             smtp_security="none", undo_seconds=0,
                             max_message_bytes=1024 * 1024)  # fmt: skip
    first = deliver(support, make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>",
                                       subject="見積もりのお願い",
                                       message_id="cb1@tokyo-shoji.example"))  # fmt: skip
    return first.conversation, handler


def test_rich_text_reply_with_an_attachment(page, web, sending, tmp_path):
    """Bold text and a file: the customer's mail has both, as HTML and as plain text."""
    conv, handler = sending
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.click(".rich-toggle")
    editor = page.locator(".rich")
    editor.click()
    page.keyboard.type("お見積もりを")
    page.click("button[data-cmd=bold]")
    page.keyboard.type("添付")
    page.click("button[data-cmd=bold]")
    page.keyboard.type("いたします。")
    quote = tmp_path / "見積書.pdf"
    quote.write_bytes(b"%PDF-1.4 quote")
    page.set_input_files("#id_attachments", str(quote))
    shot(page, "composer_rich_ja.png")
    page.click("#reply")
    expect(page.locator(".card.out .attachments")).to_contain_text("見積書.pdf")
    mail = parse(wait_until(lambda: handler.received, "the reply is sent")[0].data)
    assert "添付</b>" in mail.html or "添付</strong>" in mail.html
    assert "お見積もりを添付いたします。" in mail.text
    assert [a.filename for a in mail.attachments] == ["見積書.pdf"]
    assert mail.in_reply_to == "cb1@tokyo-shoji.example"


def test_a_file_over_the_limit_is_refused_before_upload(page, web, sending, tmp_path):
    """Over the mailbox's 1 MB: a message beside the field and nothing is sent to the server."""
    conv, handler = sending
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.fill("#id_text", "添付します")
    big = tmp_path / "big.zip"
    big.write_bytes(b"0" * (2 * 1024 * 1024))
    page.set_input_files("#id_attachments", str(big))
    expect(page.locator(".too-big")).to_contain_text("合計 2.0 MB")
    expect(page.locator(".too-big")).to_contain_text("1.0 MB まで")
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.click("#reply")
    # the composer refused the submit and put the focus on the files: nothing was posted
    expect(page.locator("#id_attachments")).to_be_focused()
    assert not [u for u in posted if u.endswith("/reply")]
    shot(page, "composer_too_big_ja.png")


def test_draft_survives_a_reload(page, web, sending):
    """What was typed is saved within seconds and is there again after a reload."""
    conv, _handler = sending
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.fill("#id_text", "")
    page.locator("#id_text").press_sequentially("途中まで書いた返信")
    expect(page.locator(".draft-state")).to_contain_text("下書きを保存しました")
    assert Draft.objects.get().text == "途中まで書いた返信"
    page.reload()
    expect(page.locator("#id_text")).to_have_value("途中まで書いた返信")


def test_forward_and_start_a_new_conversation(page, web, sending, team):
    """Forward a customer's mail to a colleague, then write to a new customer."""
    conv, handler = sending
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.click(".card.message footer a:has-text('転送')")
    page.fill("#id_to", "設計部 <design@example.jp>")
    page.fill("#id_text", "ご確認ください。")
    page.click("#send")
    expect(page.locator(".card.out")).to_contain_text("ご確認ください。")
    forwarded = parse(wait_until(lambda: handler.received, "the forward is sent")[0].data)
    assert forwarded.subject == "Fwd: 見積もりのお願い"
    page.goto(f"{web}/m/{team['support'].pk}/new/")
    page.keyboard.press("c")
    page.fill("#id_to", "山田 花子 <yamada@example.com>")
    page.fill("#id_subject", "ご注文の発送について")
    page.fill("#id_text", "本日発送いたしました。")
    shot(page, "compose_new_ja.png")
    page.click("#send")
    expect(page.locator("h1#conv-title")).to_contain_text("ご注文の発送について")
    expect(page.locator(".meta .status")).to_have_text("対応中")
    expect(page.locator(".customer")).to_contain_text("山田 花子")
    wait_until(lambda: len(handler.received) == 2, "the second mail is sent")
    assert parse(handler.received[1].data).to[0].email == "yamada@example.com"
    assert Conversation.objects.filter(subject="ご注文の発送について").count() == 1
