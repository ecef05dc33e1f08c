"""The reports page in a real browser: the figures, both charts drawn by Chart.js from our
own static files, the heat map, the tables; in Japanese."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.models import Role
from madoguchi.conversations import actions
from madoguchi.conversations.models import Conversation, Status
from madoguchi.mail import Address
from madoguchi.mail_out import actions as outbox
from tests.factories import make_agent
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def test_reports_page_with_its_charts(page, web, team):
    make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    sato = team["sato"]
    for n, (subject, tag) in enumerate([("請求書の再発行", "請求"), ("納期の確認", "納期"),
                                        ("ログインできません", "")]):  # fmt: skip
        message = deliver(team["support"], make_mail(subject=subject, message_id=f"r{n}@x"))
        assert message is not None
        conv = Conversation.objects.get(pk=message.conversation_id)
        if tag:
            actions.tag_conversation(conv, tag, actor_id=sato.user_id)
        outbox.queue_reply(conv, author=sato.user, text="承知しました。",
                           to=[Address("", "c@example.jp")])  # fmt: skip
        if n < 2:
            actions.change_status(conv, Status.DONE, actor_id=sato.user_id)
    login(page, web, "boss", "pw-boss-123")
    page.click("text=レポート")
    expect(page.locator("h1")).to_contain_text("レポート")
    expect(page.locator(".kpi .n").first).to_have_text("3")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('chart-daily') && Chart.getChart('chart-backlog')"
    )
    expect(page.locator(".report-table").first).to_contain_text("佐藤 花子")
    expect(page.locator(".report-table").nth(1)).to_contain_text("請求")
    shot(page, "reports_ja.png")
    page.emulate_media(media="print")
    expect(page.locator(".rail")).to_be_hidden()
    shot(page, "reports_print_ja.png")


def test_workload_follows_the_team_and_hands_over(page, web, team, suzuki):
    make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    sato = team["sato"]
    for n in range(2):
        message = deliver(team["support"], make_mail(subject=f"至急の件 {n}", message_id=f"w{n}@x"))
        assert message is not None
        conv = Conversation.objects.get(pk=message.conversation_id)
        actions.assign_conversation(conv, assignee_id=sato.user_id, actor_id=None)
    login(page, web, "boss", "pw-boss-123")
    page.goto(f"{web}/reports/workload/")
    row = page.locator(f"tr[data-agent='{sato.user_id}']")
    expect(row.locator("td.num").first).to_have_text("2")
    message = deliver(team["support"], make_mail(subject="追加の件", message_id="w9@x"))
    assert message is not None
    conv = Conversation.objects.get(pk=message.conversation_id)
    actions.assign_conversation(conv, assignee_id=sato.user_id, actor_id=None)
    expect(row.locator("td.num").first).to_have_text("3")  # live, without reloading
    shot(page, "workload_ja.png")
    row.locator("select[name=to]").select_option(str(suzuki.user_id))
    row.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("3 件の会話を")
    expect(page.locator(f"tr[data-agent='{suzuki.user_id}'] td.num").first).to_have_text("3")
