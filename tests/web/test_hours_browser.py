"""A manager sets a mailbox's business hours, its days off and its SLA in a real browser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.models import Role
from madoguchi.automation.models import SlaTarget
from madoguchi.mailboxes.models import DayOff, Mailbox
from tests.factories import make_agent, password_of
from tests.web.browser import login, shot

pytestmark = pytest.mark.browser


def keep(path: Path, name: str) -> None:
    """A copy for the report, beside the test results."""
    target = Path("/tmp/shots")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target / name)


def test_a_manager_sets_hours_days_off_and_targets(page, web, team):
    support = team["support"]
    make_agent("boss", role=Role.MANAGER, mailboxes=[support])
    login(page, web, "boss", password_of("boss"))
    page.goto(f"{web}/admin/mailboxes/{support.pk}/hours")
    page.fill("#id_mon", "09:00-12:00, 13:00-18:00")
    page.fill("#id_sat", "10:00-25:00")
    page.click("form.hours-form button.primary")
    expect(page.locator("tr.invalid .error")).to_be_visible()  # 25:00 is no time of day
    page.fill("#id_sat", "")
    page.click("form.hours-form button.primary")
    expect(page.locator(".flash")).to_be_visible()
    page.click("form.presets button[value=new_year]")
    page.fill("#id_name", "社員旅行")
    page.fill("#id_start", "2026-10-15")
    page.fill("#id_end", "2026-10-16")
    page.click("form.day-off-form button")
    expect(page.locator("table.days-off")).to_contain_text("社員旅行")
    expect(page.locator("ul.closures")).to_contain_text("年末年始")
    keep(shot(page, "hours_page.png"), "hours_page.png")
    support = Mailbox.objects.get(pk=support.pk)
    assert support.business_hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert sorted(DayOff.objects.values_list("name", flat=True)) == ["年末年始", "社員旅行"]

    page.click("nav.subnav a[href$='/automation']")
    page.fill("#id_own_first_hours", "2")
    page.fill("#id_own_resolution_hours", "24")
    page.click("form.sla-form button.primary")
    expect(page.locator(".flash")).to_be_visible()
    keep(shot(page, "hours_automation.png"), "hours_automation.png")
    target = SlaTarget.objects.get(mailbox=support, tag=None)
    assert (target.first_response_minutes, target.resolution_minutes) == (120, 24 * 60)
