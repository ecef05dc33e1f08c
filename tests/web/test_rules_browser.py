"""A manager builds a sorting rule in a real browser, tries it on past mail, saves it, and
the next mail is assigned and tagged by it, with the rule named in the timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from madoguchi.accounts.models import Role
from madoguchi.automation.models import Rule
from madoguchi.conversations.models import Conversation
from tests.factories import make_agent, password_of
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def snap(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def mail(team: dict[str, Any], subject: str, n: int) -> Conversation:
    message = deliver(
        team["support"],
        make_mail(
            subject=subject,
            sender=f"顧客{n} <c{n}@tokyo-shoji.example>",
            message_id=f"r{n}@x.example",
        ),
    )
    assert message is not None
    return message.conversation


def test_build_try_save_and_see_the_rule_work(page: Page, web: str, team: dict[str, Any]) -> None:
    support, sato = team["support"], team["sato"]
    make_agent("boss", role=Role.MANAGER, mailboxes=[support])
    past = [
        mail(team, "請求書の件", 1),
        mail(team, "【請求】１１月分", 2),
        mail(team, "見積依頼", 3),
    ]
    login(page, web, "boss", password_of("boss"))
    page.goto(f"{web}/admin/mailboxes/{support.pk}/rules/")
    page.click("a.button.primary")  # New rule

    page.fill("#id_name", "請求書")
    first = page.locator("#condition-rows li.rule-row").first
    expect(first.locator(".c-header")).to_be_hidden()  # only a header condition asks for one
    expect(first.locator(".c-choice")).to_be_hidden()
    first.locator(".c-field").select_option("subject")
    first.locator(".c-op").select_option("contains")
    first.locator(".c-value").fill("請求")
    assign = page.locator("#action-rows li.rule-row").first
    assign.locator(".a-type").select_option("assign")
    expect(assign.locator("select[name=a_tag]")).to_have_count(0)
    expect(assign.locator("input[name=a_tag]")).to_be_hidden()
    assign.locator("select[name=a_agent]").select_option(str(sato.user_id))
    page.click("button[name=add][value=action]")  # a row added in place
    tag = page.locator("#action-rows li.rule-row").nth(1)
    tag.locator(".a-type").select_option("tag")
    expect(tag.locator("input[name=a_tag]")).to_be_visible()
    tag.locator("input[name=a_tag]").fill("請求")
    # A second condition, added and removed again.
    page.click("button[name=add][value=condition]")
    extra = page.locator("#condition-rows li.rule-row").nth(1)
    extra.locator(".c-field").select_option("kind")
    expect(extra.locator(".c-choice")).to_be_visible()
    expect(extra.locator(".c-value")).to_be_hidden()
    extra.locator("button.remove").click()
    expect(page.locator("#condition-rows li.rule-row")).to_have_count(1)

    page.evaluate("window.notReloaded = true")
    page.click("#tryout-button")
    result = page.locator("#tryout-result")
    expect(result.locator(".matched li")).to_have_count(2)
    expect(result.locator(".count")).to_contain_text("2")
    assert page.evaluate("window.notReloaded") is True  # fetched in place
    for conv in past[:2]:
        expect(result.locator(f"a[href='/c/{conv.pk}/']")).to_be_visible()
    assert not Rule.objects.exists()
    snap(page, "rules_builder.png")

    page.click(".save button.primary")
    expect(page.locator(".rule-list .rule")).to_have_count(1)
    expect(page.locator(".rule-list .rule h2")).to_contain_text("請求書")
    expect(page.locator(".rule-list .rule .then")).to_contain_text("佐藤 花子")
    snap(page, "rules_list.png")

    conv = mail(team, "請求書の再発行のお願い", 4)
    conv.refresh_from_db()
    assert conv.assignee_id == sato.user_id
    assert list(conv.tags.values_list("name", flat=True)) == ["請求"]
    page.goto(f"{web}/c/{conv.pk}/")
    expect(page.locator(".tags .tag")).to_have_text("請求")
    activity = page.locator(".timeline .activity")
    expect(activity.filter(has_text="佐藤 花子").filter(has_text="請求書")).to_have_count(1)
    expect(activity.filter(has_text="請求書").filter(has_text="請求")).not_to_have_count(0)
    snap(page, "rules_timeline.png")
    rule = Rule.objects.get()
    assert rule.match_count == 1 and rule.last_matched_at is not None
