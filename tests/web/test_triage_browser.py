"""Triage in a real browser (Japanese UI): the rows at a glance, snoozing from the header,
and the clock bringing the conversation back to 新着 on the open list."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from madoguchi.automation import clock
from madoguchi.conversations import actions, sla_state
from madoguchi.conversations.models import Conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser

#: Where the screenshots of this file also go, to be looked at.
SHOTS = Path("/tmp/shots")


def _look(page: Page, name: str) -> None:
    shot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _conversation(team, n: int, subject: str) -> Conversation:
    mail = make_mail(subject=subject, sender=f"顧客{n} <c{n}@example.com>",
                     to=team["support"].address, message_id=f"tr{n}@example.com")  # fmt: skip
    message = deliver(team["support"], mail)
    assert message is not None
    return message.conversation


def test_snooze_from_the_header_and_the_clock_brings_it_back(page, web, team):
    sato = team["sato"].user_id
    mine = _conversation(team, 1, "請求書の再発行")
    other = _conversation(team, 2, "納期の確認")
    actions.assign_conversation(mine, assignee_id=sato, actor_id=sato)
    actions.change_status(mine, "new", actor_id=sato)
    actions.tag_conversation(mine, "VIP", actor_id=sato)
    now = timezone.now()
    Conversation.objects.filter(pk=mine.pk).update(waiting_since=now - timedelta(hours=5))
    sla_state.set_due({mine.pk: (now + timedelta(hours=2, minutes=30), "first_response"),
                       other.pk: (now - timedelta(minutes=45), "first_response")})  # fmt: skip

    login(page, web, "sato", "pw-sato-123")
    support = team["support"].pk
    page.goto(f"{web}/m/{support}/new/?sort=due")
    rows = page.locator(".row")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".who")).to_have_text("顧客2")  # overdue first
    expect(rows.first.locator(".due.overdue")).to_be_visible()
    row = page.locator(f'.row[data-conv="{mine.pk}"]')
    expect(row.locator(".assignee .name")).to_have_text("佐藤")
    expect(row.locator(".assignee .initials")).to_have_text("佐")
    expect(row.locator(".tag")).to_have_text("VIP")
    expect(row.locator(".badge.waited")).to_have_text("5時間待ち")
    expect(row.locator(".due")).to_be_visible()
    expect(row.locator(".due.overdue")).to_have_count(0)
    _look(page, "triage_list.png")

    page.goto(f"{web}/c/{mine.pk}/")
    expect(page.locator("button[data-key=a]")).to_have_count(0)  # it is already Sato's
    expect(page.locator(".assign-menu summary")).to_contain_text("佐藤 花子")
    expect(page.locator('.set-status button[aria-pressed="true"]')).to_have_text("新着")
    page.click(".snooze-menu summary")
    expect(page.locator(".snooze-menu .preset")).to_have_count(4)
    _look(page, "triage_snooze_menu.png")
    page.click('.snooze-menu button[value="tomorrow"]')
    expect(page.locator(".meta .snoozed")).to_be_visible()
    expect(page.locator(".meta .status")).to_have_text("保留")
    expect(page.locator("form.wake button")).to_be_visible()
    expect(page.locator(".timeline .activity").last).to_contain_text("09:00")
    _look(page, "triage_snoozed.png")

    page.goto(f"{web}/m/{support}/new/")
    expect(page.locator(f'.row[data-conv="{mine.pk}"]')).to_have_count(0)  # it left the tab
    page.goto(f"{web}/m/{support}/hold/")
    expect(page.locator(f'.row[data-conv="{mine.pk}"] .snoozed')).to_be_visible()
    _look(page, "triage_hold.png")

    page.goto(f"{web}/m/{support}/new/")
    expect(page.locator(".row")).to_have_count(1)
    until = Conversation.objects.get(pk=mine.pk).snoozed_until
    assert until is not None
    assert clock.tick(until + timedelta(minutes=1))["woken"] == 1  # the clock, a day later
    back = page.locator(f'.row[data-conv="{mine.pk}"]')
    expect(back).to_have_count(1)  # the open list took it back live
    expect(back.locator(".assignee .name")).to_have_text("佐藤")
    expect(back).to_have_class("row unread")
    _look(page, "triage_back.png")


def test_the_assignee_menu_and_the_status_buttons(page, web, team, suzuki):
    conv = _conversation(team, 3, "見積もりの依頼")
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/c/{conv.pk}/")
    expect(page.locator("button[data-key=a]")).to_have_count(1)  # nobody has it
    expect(page.locator(".assign-menu summary")).to_contain_text("なし")
    page.click(".assign-menu summary")
    page.click('.assign-menu button:has-text("鈴木 一郎")')
    expect(page.locator(".assign-menu summary")).to_contain_text("鈴木 一郎")
    expect(page.locator(".meta .status")).to_have_text("対応中")
    page.click('.set-status button[value="hold"]')
    expect(page.locator('.set-status button[aria-pressed="true"]')).to_have_text("保留")
    page.keyboard.press("e")
    expect(page.locator(".meta .status")).to_have_text("対応完了")
    _look(page, "triage_header.png")
