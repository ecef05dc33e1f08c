"""Automatic assignment in Chromium: an agent who goes 離席 in the rail gets no new
conversations until they are 対応可能 again; a manager sets a mailbox's policy and sees who
is next."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from madoguchi.accounts.models import Agent, Role
from madoguchi.automation import groups
from madoguchi.automation.models import AssignmentPolicy
from madoguchi.mailboxes.models import Mailbox
from tests.factories import CUSTOMER, make_agent
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser

#: Where the issue asks for the screenshots (a copy of each; the originals are in SHOTS).
TMP_SHOTS = Path("/tmp/shots")
_numbers = itertools.count(1)


def _shot(page: Page, name: str) -> None:
    TMP_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot(page, name), TMP_SHOTS / name)


def _mail(mailbox: Mailbox) -> int | None:
    n = next(_numbers)
    data = make_mail(subject=f"見積もりのお願い {n}", sender=str(CUSTOMER), to=mailbox.address,
                     message_id=f"ab{n}@tokyo-shoji.example")  # fmt: skip
    message = deliver(mailbox, data)
    assert message is not None
    message.conversation.refresh_from_db()
    return message.conversation.assignee_id


def test_an_agent_going_away_stops_receiving_assignments(page, web, team, suzuki):
    support, sato = team["support"], team["sato"]
    groups.save_policy(support, strategy="round_robin", group_id=None, max_open=None,
                       reoffer_after_minutes=None, actor_id=None)  # fmt: skip
    login(page, web, "sato", "pw-sato-123")
    page.goto(f"{web}/v/mine/open/")
    switch = page.locator(".rail .availability-switch")
    expect(switch.locator('button[value="1"]')).to_have_attribute("aria-pressed", "true")
    switch.locator('button[value="0"]').click()  # 離席
    expect(page).to_have_url(f"{web}/v/mine/open/")
    expect(switch.locator('button[value="0"]')).to_have_attribute("aria-pressed", "true")
    assert Agent.objects.get(pk=sato.pk).available is False
    _shot(page, "assignment_rail_away.png")

    given = [_mail(support) for _ in range(3)]
    assert given == [suzuki.user_id] * 3  # only the others, while sato is away
    page.reload()
    expect(page.locator(".row")).to_have_count(0)

    switch.locator('button[value="1"]').click()  # 対応可能 again
    expect(switch.locator('button[value="1"]')).to_have_attribute("aria-pressed", "true")
    assert _mail(support) == sato.user_id  # the least recently given: sato's turn
    page.goto(f"{web}/v/mine/open/")
    expect(page.locator(".row")).to_have_count(1)
    expect(page.locator(".row").first).to_contain_text("見積もりのお願い")
    _shot(page, "assignment_rail_back.png")

    page.goto(f"{web}/settings/")  # working hours and cap, beside the other settings
    page.fill("#id_hours-mon", "９:００〜１８:００")
    page.fill("#id_hours-max_open", "12")
    page.click("button.primary")
    expect(page.locator(".saved")).to_be_visible()
    expect(page.locator("#id_hours-mon")).to_have_value("09:00-18:00")
    sato.refresh_from_db()
    assert (sato.working_hours, sato.max_open) == ({"mon": [["09:00", "18:00"]]}, 12)
    page.locator("#working-hours").scroll_into_view_if_needed()
    _shot(page, "assignment_preferences.png")


def test_a_manager_sets_the_policy_and_sees_who_is_next(page, web, team, suzuki):
    support = team["support"]
    make_agent("boss", role=Role.MANAGER, mailboxes=[support])
    login(page, web, "boss", "pw-boss-123")
    page.goto(f"{web}/admin/groups/")
    page.fill("#id_name", "請求")
    page.check(f'#id_members input[value="{suzuki.user_id}"]')
    page.check(f'#id_members input[value="{team["sato"].user_id}"]')
    page.click("button.primary")
    expect(page.locator("table.groups")).to_contain_text("請求")
    page.locator(f'#person-{team["sato"].pk} button[name="available"]').click()  # set away
    expect(page.locator(f"#person-{team['sato'].pk} .state")).to_have_class("state away")
    _shot(page, "assignment_groups.png")

    page.goto(f"{web}/admin/mailboxes/{support.pk}/assignment")
    page.select_option("#id_strategy", "round_robin")
    page.select_option("#id_group", label="請求")
    page.fill("#id_max_open", "5")
    page.fill("#id_reoffer_after_minutes", "30")
    page.click("button.primary")
    expect(page.locator(".next-one strong")).to_have_text("鈴木 一郎")
    expect(page.locator(f"#roster-{team['sato'].user_id} .state")).to_have_class("state away")
    policy = AssignmentPolicy.objects.get(mailbox=support)
    assert (policy.strategy, policy.max_open, policy.reoffer_after_minutes) == (
        "round_robin", 5, 30,
    )  # fmt: skip
    page.fill("#id_max_open", "-1")
    page.click("button.primary")
    expect(page.locator(".field.invalid .error")).to_be_visible()
    page.goto(f"{web}/admin/mailboxes/{support.pk}/assignment")
    _shot(page, "assignment_policy.png")
