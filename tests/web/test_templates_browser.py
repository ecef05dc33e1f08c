"""Templates in the browser: insert one with variables into a reply by keyboard alone and
send it; the managers' pages with their live preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from madoguchi.accounts.models import Role
from madoguchi.mail import parse
from madoguchi.mailboxes.actions import update_mailbox
from madoguchi.reply_templates import actions
from madoguchi.reply_templates.models import Template
from tests.factories import make_agent, make_conversation
from tests.waiting import wait_until
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
BODY = (
    "{{宛名}}\n\nいつもお世話になっております。{{窓口名}}の{{担当者名}}です。\n"
    "お問い合わせ（{{問い合わせ番号}}）の請求書を再発行し、添付いたしました。\n"
    "受付時間: {{営業時間}}"
)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    shot(page, name)


def _templates(support):
    actions.create_template(
        name="お問い合わせ受付", body="{{宛名}}\nお問い合わせを受け付けました。", actor_id=None
    )
    bill = actions.create_template(
        name="請求書の再発行", body=BODY, mailbox_id=support.pk, actor_id=None
    )
    actions.add_attachment(
        bill,
        filename="請求書_2026-12.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.4 invoice",
        actor_id=None,
    )
    actions.create_template(
        name="請求書の送付先変更",
        body="送付先を変更しました。",
        mailbox_id=support.pk,
        actor_id=None,
    )
    return bill


def _tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    """Press Tab until ``element_id`` has the focus (the keyboard's way to a button)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} not reached with Tab")


def test_insert_a_template_by_keyboard_and_send_it(page, web, team, smtp_capture):
    ctl, handler = smtp_capture
    support = update_mailbox(
        team["support"],
        smtp_host="127.0.0.1",
        smtp_port=ctl.port,
        smtp_security="none",
        undo_seconds=0,
    )
    bill = _templates(support)
    conv = make_conversation(
        support, sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="請求書の再発行のお願い"
    )
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")

    page.keyboard.press("r")  # the reply box (keys.js)
    expect(page.locator("#id_text")).to_be_focused()
    page.keyboard.type("/")  # at the start of a line: the picker opens
    picker = page.locator(".template-picker")
    expect(picker).to_be_visible()
    expect(page.locator(".template-search")).to_be_focused()
    expect(page.locator(".template-options [role=option]")).to_have_count(3)
    page.keyboard.type("見積")  # no template says so
    expect(page.locator(".template-empty")).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("請求書")
    options = page.locator(".template-options [role=option]")
    expect(options).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(options.first).to_contain_text("請求書の再発行")
    expect(options.first.locator(".snippet")).to_contain_text("田中 一郎 様")
    _shot(page, "templates_picker.png")
    page.keyboard.press("Enter")

    expect(picker).to_be_hidden()
    text = page.locator("#id_text")
    expect(text).to_be_focused()
    expect(text).to_have_value(
        "田中 一郎 様\n\nいつもお世話になっております。サポート窓口の佐藤 花子です。\n"
        f"お問い合わせ（#{conv.pk}）の請求書を再発行し、添付いたしました。\n"
        "受付時間: 平日 9:00〜18:00（土日祝を除く）"
    )  # the "/" that opened the picker is gone
    expect(page.locator(".template-files li")).to_have_count(1)
    expect(page.locator(".template-files")).to_contain_text("請求書_2026-12.pdf")
    page.keyboard.type("\nよろしくお願いいたします。")
    _shot(page, "templates_inserted.png")

    _tab_to(page, "reply")
    page.keyboard.press("Enter")
    expect(page.locator(".card.out")).to_have_count(1)
    sent = wait_until(lambda: handler.received, "the reply reaches the SMTP server")
    mail = parse(sent[0].data)
    assert f"お問い合わせ（#{conv.pk}）の請求書" in mail.text
    assert mail.text.startswith("田中 一郎 様\n")
    assert "{{" not in mail.text and "よろしくお願いいたします。" in mail.text
    assert [a.filename for a in mail.attachments] == ["請求書_2026-12.pdf"]
    counted = wait_until(lambda: Template.objects.get(pk=bill.pk).use_count, "the use is counted")
    assert counted == 1
    assert Template.objects.get(pk=bill.pk).last_used_at is not None


def test_picker_by_shortcut_escape_gives_the_cursor_back(page, web, team):
    _templates(team["support"])
    conv = make_conversation(team["support"], message_id="t2@tokyo-shoji.example")
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    text = page.locator("#id_text")
    text.focus()
    page.keyboard.type("お世話になっております。 / ")
    page.keyboard.press("Control+Shift+Space")
    expect(page.locator(".template-picker")).to_be_visible()
    page.keyboard.type("お問い合わせ受付")
    expect(page.locator(".template-options [role=option]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(".template-picker")).to_be_hidden()
    expect(text).to_be_focused()
    expect(text).to_have_value("お世話になっております。 / ")  # a "/" mid-line opens nothing
    page.keyboard.press("Control+Shift+Space")
    page.keyboard.press("Enter")
    expect(text).to_have_value(
        "お世話になっております。 / 田中 一郎 様\nお問い合わせを受け付けました。"
    )


def test_the_managers_pages_show_use_and_preview_live(page, web, team):
    make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    bill = _templates(team["support"])
    conv = make_conversation(team["support"], message_id="t3@tokyo-shoji.example")
    actions.count_use([bill.pk], conv=conv, actor_id=None)
    login(page, web, "boss", "pw-boss-123")
    page.goto(f"{web}/admin/templates/?mailbox={team['support'].pk}&sort=used")
    first = page.locator(".template-table tbody tr").first
    expect(first).to_contain_text("請求書の再発行")
    expect(first.locator(".use-count")).to_have_text("1")
    _shot(page, "templates_list.png")
    page.click(f"a[href='/admin/templates/{bill.pk}/']")
    body = page.locator("textarea[name=body]")
    body.fill("{{宛名}}\nご連絡ありがとうございます。{{today}}")
    preview = page.locator(".preview-text")
    expect(preview).to_contain_text("田中 一郎 様\nご連絡ありがとうございます。20")
    page.click("button.insert-variable[data-variable='{{agent_name}}']")
    expect(preview).to_contain_text("山本 部長")
    _shot(page, "templates_edit.png")


def test_slash_in_the_rich_editor_is_replaced_by_the_template(page, web, team):
    _templates(team["support"])
    conv = make_conversation(team["support"], message_id="t4@tokyo-shoji.example")
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    page.click(".rich-toggle")
    rich = page.locator(".rich")
    expect(rich).to_be_focused()
    page.keyboard.type("/")
    expect(page.locator(".template-picker")).to_be_visible()
    page.keyboard.type("お問い合わせ受付")
    page.keyboard.press("Enter")
    expect(page.locator(".template-picker")).to_be_hidden()
    expect(rich).to_have_text("田中 一郎 様お問い合わせを受け付けました。")
    assert page.locator("#id_text").input_value() == "田中 一郎 様\nお問い合わせを受け付けました。"
