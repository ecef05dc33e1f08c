"""The assignment pages over HTTP: groups, a mailbox's assignment, availability (rail, team,
managers) and working hours on the settings page; who may do what; bad input is a form
error or a 400, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts import availability
from madoguchi.accounts.models import Agent, Role
from madoguchi.automation import groups
from madoguchi.automation.models import AssignmentPolicy, Group, Strategy
from madoguchi.core.models import Event
from tests.factories import client_for, make_agent

pytestmark = pytest.mark.django_db

HUGE = "9" * 40


@pytest.fixture
def boss(team: dict[str, Any]) -> Agent:
    """A manager of the support mailbox (not of sales)."""
    return make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])


@pytest.fixture
def admin(team: dict[str, Any]) -> Agent:
    return make_agent("admin", role=Role.ADMIN, display_name="管理者")


def _group(team: dict[str, Any], name: str = "請求") -> Group:
    return groups.create_group(name, member_ids=[team["sato"].user_id], actor_id=None)


def test_agents_may_not_manage_groups_or_assignment(team):
    group = _group(team)
    client = client_for(team["sato"])
    for url in ["/admin/groups/", f"/admin/groups/{group.pk}/",
                f"/admin/mailboxes/{team['support'].pk}/assignment"]:  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert (
        client.post("/admin/groups/", {"name": "技術", "strategy": "round_robin"}).status_code
        == 403
    )
    assert client.post(f"/admin/groups/{group.pk}/delete").status_code == 403
    assert Group.objects.count() == 1
    assert Client().get("/admin/groups/").status_code == 302  # to the sign-in page


def test_a_manager_manages_groups_and_their_own_mailboxes_only(team, boss):
    client = client_for(boss)
    assert client.get("/admin/groups/").status_code == 200
    assert client.get(f"/admin/mailboxes/{team['support'].pk}/assignment").status_code == 200
    assert client.get(f"/admin/mailboxes/{team['sales'].pk}/assignment").status_code == 404
    assert client.get("/admin/groups/999999/").status_code == 404


def test_create_a_group_with_members(team, boss):
    client = client_for(boss)
    response = client.post("/admin/groups/", {
        "name": "技術", "strategy": "fewest_open", "members": [team["sato"].user_id],
    })  # fmt: skip
    assert response.status_code == 302
    group = Group.objects.get(name="技術")
    assert group.strategy == Strategy.FEWEST_OPEN
    assert list(group.memberships.values_list("user_id", flat=True)) == [team["sato"].user_id]
    event = Event.objects.get(type="group.saved")
    assert event.data == {"group": group.pk, "name": "技術", "change": "created"}
    assert event.actor_id == boss.user_id
    page = client.get("/admin/groups/").content.decode()
    assert "技術" in page and "佐藤 花子" in page


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "strategy": "round_robin"},
        {"name": "請求", "strategy": "round_robin"},  # taken
        {"name": "ｘ" * 101, "strategy": "round_robin"},
        {"name": "技術", "strategy": "lottery"},
        {"name": "技術", "strategy": "off"},
        {"name": "技術", "strategy": "round_robin", "members": ["abc"]},
        {"name": "技術", "strategy": "round_robin", "members": [HUGE]},
        {"name": "技術", "strategy": "round_robin", "members": ["999999"]},
    ],
)
def test_bad_group_input_is_a_form_error(team, boss, data):
    _group(team)
    response = client_for(boss).post("/admin/groups/", data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert Group.objects.count() == 1


def test_the_same_name_in_other_case_is_taken(team, boss):
    groups.create_group("Billing", actor_id=None)
    response = client_for(boss).post("/admin/groups/", {"name": "billing", "strategy": "sticky"})
    assert response.status_code == 400


def test_edit_a_group_renames_and_changes_members_and_strategy(team, boss, suzuki):
    group = _group(team)
    client = client_for(boss)
    assert "請求" in client.get(f"/admin/groups/{group.pk}/").content.decode()
    response = client.post(f"/admin/groups/{group.pk}/", {
        "name": "請求・経理", "strategy": "sticky", "members": [suzuki.user_id],
    })  # fmt: skip
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.strategy) == ("請求・経理", Strategy.STICKY)
    assert list(group.memberships.values_list("user_id", flat=True)) == [suzuki.user_id]
    changes = Event.objects.filter(type="group.saved").values_list("data__change", flat=True)
    assert list(changes.order_by("pk")) == ["created", "renamed", "strategy", "members"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "strategy": "sticky"},
        {"name": "請求", "strategy": "sticky", "members": [HUGE]},
        {"name": "Billing", "strategy": "sticky"},  # another group's name
    ],
)
def test_bad_input_when_editing_a_group_changes_nothing(team, boss, data):
    group = _group(team)
    groups.create_group("billing", actor_id=None)
    response = client_for(boss).post(f"/admin/groups/{group.pk}/", data)
    assert response.status_code == 400
    group.refresh_from_db()
    assert (group.name, group.strategy) == ("請求", Strategy.ROUND_ROBIN)
    assert client_for(boss).post("/admin/groups/999999/delete").status_code == 404


def test_delete_a_group_leaves_its_mailboxes_with_their_members(team, boss):
    group = _group(team)
    groups.save_policy(team["support"], strategy="round_robin", group_id=group.pk,
                       max_open=None, reoffer_after_minutes=None, actor_id=None)  # fmt: skip
    client = client_for(boss)
    assert client.get(f"/admin/groups/{group.pk}/delete").status_code == 405
    assert client.post(f"/admin/groups/{group.pk}/delete").status_code == 302
    assert not Group.objects.exists()
    assert AssignmentPolicy.objects.get(mailbox=team["support"]).group_id is None
    assert Event.objects.get(type="group.deleted").data == {"group": group.pk, "name": "請求"}


def test_a_mailbox_policy_is_saved_and_explained(team, boss, suzuki):
    group = groups.create_group(
        "請求", member_ids=[team["sato"].user_id, suzuki.user_id], actor_id=None
    )
    availability.set_available(team["sato"], False, actor_id=None, reason="manager")
    url = f"/admin/mailboxes/{team['support'].pk}/assignment"
    client = client_for(boss)
    response = client.post(url, {"strategy": "round_robin", "group": str(group.pk),
                                 "max_open": "10", "reoffer_after_minutes": "30"})  # fmt: skip
    assert response.status_code == 302
    policy = AssignmentPolicy.objects.get(mailbox=team["support"])
    assert (policy.strategy, policy.group_id, policy.max_open, policy.reoffer_after_minutes) == (
        "round_robin", group.pk, 10, 30,
    )  # fmt: skip
    event = Event.objects.get(type="automation.settings")
    assert event.data == {"what": "assignment",
                          "change": "strategy,group,max_open,reoffer_after_minutes"}  # fmt: skip
    assert event.mailbox_id == team["support"].pk
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<strong>鈴木 一郎</strong>" in page  # sato is away: suzuki is next
    assert f'id="roster-{team["sato"].user_id}"' in page
    client.post(url, {"strategy": "round_robin", "group": str(group.pk), "max_open": "10",
                      "reoffer_after_minutes": "30"})  # fmt: skip
    assert Event.objects.filter(type="automation.settings").count() == 1  # nothing changed


@pytest.mark.parametrize(
    "data",
    [
        {"strategy": "whoever"},
        {"strategy": "round_robin", "group": "999999"},
        {"strategy": "round_robin", "group": HUGE},
        {"strategy": "round_robin", "group": "abc"},
        {"strategy": "round_robin", "max_open": "-1"},
        {"strategy": "round_robin", "max_open": "many"},
        {"strategy": "round_robin", "max_open": HUGE},
        {"strategy": "round_robin", "reoffer_after_minutes": "0"},
        {"strategy": "round_robin", "reoffer_after_minutes": "1e9"},
    ],
)
def test_bad_policy_input_is_a_form_error(team, boss, data):
    url = f"/admin/mailboxes/{team['support'].pk}/assignment"
    response = client_for(boss).post(url, data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not AssignmentPolicy.objects.exists()


def test_the_rail_switch_sets_me_away_and_back(team):
    client = client_for(team["sato"])
    page = client.get("/v/mine/open/").content.decode()
    assert 'name="available" value="1" aria-pressed="true"' in page
    response = client.post("/me/availability", {"available": "0", "next": "/v/mine/open/"})
    assert response.status_code == 302 and response["Location"] == "/v/mine/open/"
    sato = Agent.objects.get(pk=team["sato"].pk)
    assert sato.available is False and sato.away_since is not None
    page = client.get("/v/mine/open/").content.decode()
    assert 'name="available" value="0" aria-pressed="true"' in page
    client.post("/me/availability", {"available": "1"})
    assert Agent.objects.get(pk=team["sato"].pk).available is True
    reasons = Event.objects.filter(type="agent.availability").values_list("data__reason", flat=True)
    assert list(reasons) == ["self", "self"]


@pytest.mark.parametrize(
    ("data", "status", "location"),
    [
        ({"available": "maybe"}, 400, None),
        ({}, 400, None),
        ({"available": "0", "next": "https://evil.example/"}, 302, "/"),
        ({"available": "0", "next": "//evil.example/x"}, 302, "/"),
        ({"available": "0", "next": "/f/counts?mailbox=1"}, 302, "/"),
    ],
)
def test_the_rail_switch_refuses_bad_input_and_foreign_pages(team, data, status, location):
    response = client_for(team["sato"]).post("/me/availability", data)
    assert response.status_code == status
    if location:
        assert response["Location"] == location
    assert client_for(team["sato"]).get("/me/availability").status_code == 405


def test_a_manager_sets_an_agent_of_their_mailbox_away(team, boss):
    client = client_for(boss)
    sato, kato = team["sato"], team["kato"]
    page = client.get("/admin/groups/").content.decode()
    assert f'id="person-{sato.pk}"' in page and f'id="person-{kato.pk}"' not in page
    response = client.post(f"/admin/team/{sato.pk}/availability", {"available": "0"})
    assert response.status_code == 302
    assert Agent.objects.get(pk=sato.pk).available is False
    event = Event.objects.get(type="agent.availability")
    assert event.data["reason"] == "manager" and event.actor_id == boss.user_id
    assert client.post(f"/admin/team/{kato.pk}/availability", {"available": "0"}).status_code == 404
    assert client.post(f"/admin/team/{sato.pk}/availability", {"available": "x"}).status_code == 400
    agent = client_for(kato)
    assert agent.post(f"/admin/team/{sato.pk}/availability", {"available": "1"}).status_code == 403


def test_the_team_page_shows_availability_and_admins_set_anyone(team, admin):
    availability.set_available(team["kato"], False, actor_id=None, reason="self")
    client = client_for(admin)
    page = client.get("/admin/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="state away"' in page and "Set available" in page
    kato = team["kato"]
    response = client.post(f"/admin/team/{kato.pk}/availability",
                           {"available": "1", "next": f"/admin/team/#agent-{kato.pk}"})  # fmt: skip
    assert response.status_code == 302 and response["Location"].startswith("/admin/team/")
    assert Agent.objects.get(pk=kato.pk).available is True


def _settings(**extra: str) -> dict[str, str]:
    return {"display_name": "佐藤 花子", "language": "", "time_zone": "Asia/Tokyo", **extra}


def test_working_hours_and_cap_on_the_settings_page(team):
    client = client_for(team["sato"])
    page = client.get("/settings/").content.decode()
    assert 'name="hours-mon"' in page and 'name="hours-max_open"' in page
    response = client.post("/settings/", _settings(**{
        "hours-mon": "09:00-12:00, 13:00-18:00", "hours-tue": "９:００〜１８:００",
        "hours-max_open": "8",
    }))  # fmt: skip
    assert response.status_code == 302
    sato = Agent.objects.get(pk=team["sato"].pk)
    assert sato.working_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": [["09:00", "18:00"]],
    }  # fmt: skip
    assert sato.max_open == 8
    page = client.get("/settings/").content.decode()
    assert 'value="09:00-12:00, 13:00-18:00"' in page
    client.post("/settings/", _settings())  # every day empty: always working, no cap
    sato.refresh_from_db()
    assert sato.working_hours == {} and sato.max_open is None


@pytest.mark.parametrize(
    "extra",
    [
        {"hours-mon": "18:00-09:00"},
        {"hours-mon": "朝から晩まで"},
        {"hours-mon": "25:00-26:00"},
        {"hours-mon": "09:00-12:00, 11:00-18:00"},
        {"hours-max_open": "-3"},
        {"hours-max_open": HUGE},
    ],
)
def test_bad_working_hours_are_refused_beside_the_field(team, extra):
    response = client_for(team["sato"]).post("/settings/", _settings(**extra))
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    sato = Agent.objects.get(pk=team["sato"].pk)
    assert sato.working_hours == {} and sato.max_open is None
