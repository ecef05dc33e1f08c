"""The business hours page and the acknowledgement and SLA page of a mailbox: who may use
them, what they save, and bad input answered with the form's errors (never a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.models import Role
from madoguchi.automation.models import AutoReply, SlaTarget
from madoguchi.conversations.models import Tag
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import DayOff, Mailbox
from madoguchi.reply_templates.actions import create_template
from tests.factories import client_for, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(team: dict[str, Any]) -> Client:
    """A manager of the support mailbox."""
    return client_for(make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]]))


def hours_url(mailbox: Mailbox, rest: str = "") -> str:
    return f"/admin/mailboxes/{mailbox.pk}/hours{rest}"


def auto_url(mailbox: Mailbox) -> str:
    return f"/admin/mailboxes/{mailbox.pk}/automation"


def week(**days: str) -> dict[str, str]:
    data = {"time_zone": "Asia/Tokyo", "holiday_country": "JP"}
    data.update({d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")})
    data.update(days)
    return data


def test_agents_get_403_and_other_mailboxes_404(team, boss):
    support, sales = team["support"], team["sales"]
    agent = client_for(team["sato"])
    for url in [hours_url(support), auto_url(support)]:
        assert agent.get(url).status_code == 403
        assert agent.post(url, week()).status_code == 403
    assert agent.post(hours_url(support, "/days-off/preset"), {"preset": "obon"}).status_code == 403
    for url in [hours_url(sales), auto_url(sales)]:
        assert boss.get(url).status_code == 404
    assert boss.post(hours_url(sales, "/days-off/preset"), {"preset": "obon"}).status_code == 404
    assert not DayOff.objects.exists()
    assert Client().get(hours_url(support)).status_code == 302  # to the sign-in page
    admin = client_for(make_agent("root", role=Role.ADMIN))
    assert admin.get(hours_url(sales)).status_code == 200
    assert admin.get(auto_url(sales)).status_code == 200


def test_a_manager_sets_weekly_hours_with_several_spans(team, boss):
    support = team["support"]
    page = boss.get(hours_url(support))
    assert page.status_code == 200 and 'value="09:00-18:00"' in page.content.decode()
    response = boss.post(hours_url(support), week(
        time_zone="America/New_York", holiday_country="US",
        mon="09:00-12:00, 13:00-18:00", fri="", sat="１０：００〜１５：００",
    ))  # fmt: skip
    assert response.status_code == 302
    support.refresh_from_db()
    assert support.time_zone == "America/New_York" and support.holiday_country == "US"
    assert support.business_hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert support.business_hours["sat"] == [["10:00", "15:00"]]
    assert "fri" not in support.business_hours
    [event] = Event.objects.filter(type=EventType.AUTOMATION_SETTINGS.value)
    assert event.data["what"] == "hours" and event.mailbox_id == support.pk
    assert set(event.data["change"]) == {"business_hours", "holiday_country", "time_zone"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mon", "9時から18時"),
        ("mon", "18:00-09:00"),
        ("mon", "09:00-13:00, 12:00-18:00"),
        ("tue", "25:00-26:00"),
        ("wed", "09:00-18:00" * 30),
        ("time_zone", "Mars/Olympus"),
        ("time_zone", "../../etc/passwd"),
        ("holiday_country", "XX"),
    ],
)
def test_bad_hours_come_back_with_errors(team, boss, field, value):
    support = team["support"]
    response = boss.post(hours_url(support), week(**{field: value}))
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    support.refresh_from_db()
    assert support.business_hours["mon"] == [["09:00", "18:00"]]
    assert not Event.objects.filter(type=EventType.AUTOMATION_SETTINGS.value).exists()


def test_days_off_presets_add_and_remove(team, boss):
    support = team["support"]
    preset = hours_url(support, "/days-off/preset")
    assert boss.post(preset, {"preset": "new_year"}).status_code == 302
    assert boss.post(preset, {"preset": "new_year"}).status_code == 302  # listed already
    [new_year] = DayOff.objects.filter(mailbox=support)
    assert new_year.name == "年末年始" and new_year.yearly
    first, last = new_year.start, new_year.end
    assert (first.month, first.day, last.month, last.day) == (12, 29, 1, 3)
    assert boss.post(preset, {"preset": "easter"}).status_code == 400
    trip = {"name": "社員旅行", "start": "2026-10-15", "end": "2026-10-16"}
    response = boss.post(hours_url(support, "/days-off"), trip)
    assert response.status_code == 302
    page = boss.get(hours_url(support)).content.decode()
    assert "社員旅行" in page and "年末年始" in page
    coming = page.split('id="coming"')[1]
    assert "年末年始" in coming  # the preview lists the next year-end days off
    assert boss.post(hours_url(support, f"/days-off/{new_year.pk}/remove")).status_code == 302
    assert list(DayOff.objects.values_list("name", flat=True)) == ["社員旅行"]
    changes = Event.objects.filter(type=EventType.AUTOMATION_SETTINGS.value, data__what="days_off")
    kinds = [e.data["change"] for e in changes.order_by("pk")]
    assert kinds == [{"added": "年末年始"}, {"added": "社員旅行"}, {"removed": "年末年始"}]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "旅行", "start": "2026-10-16", "end": "2026-10-15"},
        {"name": "旅行", "start": "2026-13-40"},
        {"name": "", "start": "2026-10-15"},
        {"name": "長期", "start": "2026-01-01", "end": "2028-01-01"},
        {"name": "x" * 101, "start": "2026-10-15"},
    ],
)
def test_bad_days_off_come_back_with_errors(team, boss, data):
    response = boss.post(hours_url(team["support"], "/days-off"), data)
    assert response.status_code == 400 and 'class="error"' in response.content.decode()
    assert not DayOff.objects.exists()


def test_another_mailboxs_day_off_cannot_be_removed(team, boss):
    admin = client_for(make_agent("root", role=Role.ADMIN))
    admin.post(hours_url(team["sales"], "/days-off/preset"), {"preset": "obon"})
    [obon] = DayOff.objects.all()
    response = boss.post(hours_url(team["support"], f"/days-off/{obon.pk}/remove"))
    assert response.status_code == 404 and DayOff.objects.count() == 1
    assert boss.get(hours_url(team["support"], f"/days-off/{obon.pk}/remove")).status_code == 405


def sla_form(**fields: str) -> dict[str, str]:
    return {"section": "sla", **fields}


def test_sla_targets_for_the_mailbox_and_a_tag(team, boss):
    support = team["support"]
    vip = Tag.objects.create(name="VIP")
    response = boss.post(auto_url(support), sla_form(
        own_first_hours="2", own_first_minutes="", own_resolution_hours="24",
        new_tag=str(vip.pk), new_first_hours="0", new_first_minutes="30",
    ))  # fmt: skip
    assert response.status_code == 302
    rows = {t.tag_id: (t.first_response_minutes, t.resolution_minutes)
            for t in SlaTarget.objects.filter(mailbox=support)}  # fmt: skip
    assert rows == {None: (120, 24 * 60), vip.pk: (30, None)}
    page = boss.get(auto_url(support)).content.decode()
    assert "VIP" in page and f'name="tag{vip.pk}_first_minutes"' in page
    response = boss.post(auto_url(support), sla_form(
        own_first_hours="2", own_resolution_hours="24", **{f"tag{vip.pk}_remove": "on"},
    ))  # fmt: skip
    assert response.status_code == 302
    assert list(SlaTarget.objects.values_list("tag_id", flat=True)) == [None]
    assert Event.objects.filter(data__what="sla").count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"own_first_minutes": "75"},
        {"own_first_hours": "abc"},
        {"own_first_hours": "-1"},
        {"own_first_hours": "9" * 40},
        {"new_tag": "9" * 40, "new_first_hours": "1"},
        {"new_tag": "abc", "new_first_hours": "1"},
        {"new_tag": "__TAG__"},
    ],
)
def test_bad_sla_targets_come_back_with_errors(team, boss, fields):
    tag = Tag.objects.create(name="VIP")
    fields = {k: (str(tag.pk) if v == "__TAG__" else v) for k, v in fields.items()}
    response = boss.post(auto_url(team["support"]), sla_form(**fields))
    assert response.status_code == 400 and 'class="error"' in response.content.decode()
    assert not SlaTarget.objects.exists()


def test_the_acknowledgement_settings(team, boss):
    support, sales = team["support"], team["sales"]
    template = create_template(name="受付", body="受け付けました。", mailbox_id=support.pk,
                               actor_id=None)  # fmt: skip
    foreign = create_template(name="営業", body="x", mailbox_id=sales.pk, actor_id=None)
    form = {"section": "auto_reply", "enabled": "on", "quiet_hours": "24"}
    assert boss.post(auto_url(support), form).status_code == 400  # no template chosen
    assert boss.post(auto_url(support), {**form, "template": str(foreign.pk)}).status_code == 400
    assert boss.post(auto_url(support), {**form, "template": "1" * 30}).status_code == 400
    bad_quiet = {**form, "template": str(template.pk), "quiet_hours": "-3"}
    assert boss.post(auto_url(support), bad_quiet).status_code == 400
    assert not AutoReply.objects.exists()
    response = boss.post(auto_url(support), {**form, "template": str(template.pk),
                                             "only_outside_hours": "on"})  # fmt: skip
    assert response.status_code == 302
    setting = AutoReply.objects.get(mailbox=support)
    assert setting.enabled and setting.template_id == template.pk and setting.only_outside_hours
    page = boss.get(auto_url(support)).content.decode()
    assert f'<option value="{template.pk}" selected>' in page
    assert f'<option value="{foreign.pk}"' not in page  # another mailbox's template
    assert boss.post(auto_url(support), {"section": "other"}).status_code == 400
