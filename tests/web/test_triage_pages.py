"""Triage over HTTP: snooze from the header (presets, a typed time, back to New or to the
owner), wake, follow-ups; the header's one control per decision; the list's rows at a
glance. Bad input is a 400 or a form error, never a 500; other mailboxes' agents get 404."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from madoguchi.conversations import actions, sla_state, timers
from madoguchi.conversations.models import Conversation, Status
from tests.factories import client_for, make_conversation

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
#: Pages read in English: the assertions name the msgids, whatever the catalogue says.
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def conv(team) -> Conversation:
    return make_conversation(team["support"], message_id="t1@tokyo-shoji.example")


def _fresh(conv: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conv.pk)


def _expected(preset: str, conv: Conversation, now: datetime) -> datetime:
    with timezone.override(TOKYO):  # sato's time zone
        return timers.preset_time(preset, now=now, mailbox=conv.mailbox)


# --- snooze ---------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["tomorrow", "next_business_day", "next_week"])
def test_snooze_presets_from_the_header(team, conv, preset):
    client = client_for(team["sato"])
    before = timezone.now()
    response = client.post(f"/c/{conv.pk}/snooze", {"preset": preset, "back_to": "new"})
    assert response.status_code == 302 and response["Location"] == f"/c/{conv.pk}/"
    conv = _fresh(conv)
    assert (conv.status, conv.snooze_back_to) == ("hold", "new")
    assert conv.snoozed_until == _expected(preset, conv, before)
    assert conv.snoozed_until.astimezone(TOKYO).hour in (9, 10)  # the morning
    rows = client.get(f"/m/{team['support'].pk}/new/").content.decode()
    assert f'data-conv="{conv.pk}"' not in rows  # it left the tab
    held = client.get(f"/m/{team['support'].pk}/hold/").content.decode()
    assert f'data-conv="{conv.pk}"' in held and 'class="snoozed"' in held


def test_later_today_is_three_hours_from_now(team, conv):
    before = timezone.now()
    client_for(team["sato"]).post(f"/c/{conv.pk}/snooze", {"preset": "later"})
    until = _fresh(conv).snoozed_until
    assert before + timedelta(hours=3) <= until <= timezone.now() + timedelta(hours=3)


def test_snooze_until_a_typed_time_in_the_agents_zone(team, conv):
    actions.assign_conversation(conv, assignee_id=team["sato"].user_id, actor_id=None)
    when = (timezone.now() + timedelta(days=2)).astimezone(TOKYO).replace(second=0, microsecond=0)
    typed = when.strftime("%Y-%m-%dT%H:%M")
    response = client_for(team["sato"]).post(
        f"/c/{conv.pk}/snooze", {"preset": "custom", "until": typed, "back_to": "owner"}
    )
    assert response.status_code == 302
    conv = _fresh(conv)
    assert (conv.snoozed_until, conv.snooze_back_to) == (when, "owner")


@pytest.mark.parametrize(
    "until",
    ["", "明日", "2026-13-45T99:99", "1e309", "²", "yesterday"],
)
def test_a_typed_time_that_is_none_is_a_form_error(team, conv, until):
    client = client_for(team["sato"])
    response = client.post(f"/c/{conv.pk}/snooze", {"preset": "custom", "until": until})
    assert response.status_code == 302 and response["Location"].endswith("?error=snooze")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<details class="menu snooze-menu" open>', html)  # open on the error
    assert 'role="alert"' in html
    assert _fresh(conv).snoozed_until is None


@pytest.mark.parametrize("days", [-1, 400])
def test_a_time_past_or_beyond_a_year_is_a_form_error(team, conv, days):
    when = (timezone.now() + timedelta(days=days)).astimezone(TOKYO)
    response = client_for(team["sato"]).post(
        f"/c/{conv.pk}/snooze", {"preset": "custom", "until": when.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response["Location"].endswith("?error=snooze")
    assert _fresh(conv).status == Status.NEW


@pytest.mark.parametrize(
    "form",
    [
        {"preset": "someday"},
        {"preset": "later", "back_to": "boss"},
        {"preset": ["later", "tomorrow"]},
        {"preset": "custom", "until": "x" * 100},
        {"preset": "custom", "until": "2026-12-03T09:00\x00"},
    ],
)
def test_values_no_form_offers_are_a_400(team, conv, form):
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/snooze", form)
    assert response.status_code == 400
    assert _fresh(conv).snoozed_until is None


def test_wake_now(team, conv):
    client = client_for(team["sato"])
    client.post(f"/c/{conv.pk}/snooze", {"preset": "next_week"})
    page = client.get(f"/c/{conv.pk}/").content.decode()
    assert f'action="/c/{conv.pk}/wake"' in page and 'class="snoozed"' in page
    assert client.post(f"/c/{conv.pk}/wake").status_code == 302
    conv = _fresh(conv)
    assert (conv.status, conv.snoozed_until) == ("new", None)
    assert conv.events.filter(type="conversation.woken", data__reason="manual").count() == 1
    assert client.post(f"/c/{conv.pk}/wake").status_code == 302  # nothing to wake: no error
    assert f'action="/c/{conv.pk}/wake"' not in client.get(f"/c/{conv.pk}/").content.decode()


# --- follow-up -------------------------------------------------------------------------------


def test_follow_up_in_business_days_and_clear_it(team, conv):
    client = client_for(team["sato"])
    before = timezone.now()
    assert client.post(f"/c/{conv.pk}/follow-up", {"days": "2"}).status_code == 302
    conv = _fresh(conv)
    assert conv.follow_up_by_id == team["sato"].user_id
    assert conv.follow_up_at == timers.business_days_later(before, 2, conv.mailbox) or (
        conv.follow_up_at > before + timedelta(days=1)
    )
    page = client.get(f"/c/{conv.pk}/").content.decode()
    assert 'class="follow-up"' in page and f'action="/c/{conv.pk}/follow-up/clear"' in page
    assert client.post(f"/c/{conv.pk}/follow-up/clear").status_code == 302
    assert _fresh(conv).follow_up_at is None
    assert 'class="follow-up"' not in client.get(f"/c/{conv.pk}/").content.decode()


@pytest.mark.parametrize("days", ["", "4", "-1", "²", "1e309", "x" * 100])
def test_a_follow_up_not_offered_is_a_400(team, conv, days):
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/follow-up", {"days": days})
    assert response.status_code == 400
    assert _fresh(conv).follow_up_at is None


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("snooze", {"preset": "tomorrow"}),
        ("wake", {}),
        ("follow-up", {"days": "1"}),
        ("follow-up/clear", {}),
    ],
)
def test_an_agent_of_another_mailbox_gets_a_404(team, conv, path, form):
    timers.set_follow_up(conv, at=timezone.now() + timedelta(days=1), user_id=team["sato"].user_id)
    kato = client_for(team["kato"])
    assert kato.post(f"/c/{conv.pk}/{path}", form).status_code == 404
    assert client_for(team["sato"]).get(f"/c/{conv.pk}/{path}").status_code == 405
    conv = _fresh(conv)
    assert conv.status == Status.NEW and conv.follow_up_at is not None


def test_signed_out_goes_to_sign_in(team, conv):
    from django.test import Client

    response = Client().post(f"/c/{conv.pk}/snooze", {"preset": "tomorrow"})
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the header: one control per decision ------------------------------------------------


def test_the_header_has_one_control_per_decision(team, conv, suzuki):
    client = client_for(team["sato"])
    page = client.get(f"/c/{conv.pk}/", **EN).content.decode()
    assert 'data-key="a"' in page  # nobody has it: "take it"
    menu = r'<details class="menu assign-menu">\s*<summary>Assignee: <strong>nobody'
    assert re.search(menu, page)
    statuses = re.findall(r'name="status" value="(\w+)" aria-pressed="(\w+)"', page)
    assert statuses[:4] == [("new", "true"), ("open", "false"), ("hold", "false"),
                            ("done", "false")]  # fmt: skip
    assert re.search(r'value="done" aria-pressed="false" data-key="e"', page)
    presets = re.findall(r'name="preset" value="(\w+)"', page)
    assert presets == ["later", "tomorrow", "next_business_day", "next_week", "custom"]
    assert re.search(r'name="back_to" value="owner" disabled', page)  # nobody owns it yet
    assert '<select id="status"' not in page and '<select id="assignee"' not in page
    client.post(f"/c/{conv.pk}/assign", {"assignee": "me"})
    mine = client.get(f"/c/{conv.pk}/", **EN).content.decode()
    assert 'data-key="a"' not in mine  # already mine: no "take it"
    assert re.search(r"<summary>Assignee: <strong>佐藤 花子</strong>", mine)
    assert re.search(rf'name="assignee" value="{team["sato"].user_id}" aria-current="true"', mine)
    assert re.search(r'name="status" value="open" aria-pressed="true"', mine)
    other = client_for(suzuki).get(f"/c/{conv.pk}/").content.decode()
    assert 'data-key="a"' in other  # Suzuki may still take it


def test_the_status_buttons_change_the_status(team, conv):
    client = client_for(team["sato"])
    assert client.post(f"/c/{conv.pk}/status", {"status": "done"}).status_code == 302
    assert _fresh(conv).status == Status.DONE


def test_the_header_says_what_is_due(team, conv):
    sla_state.set_due({conv.pk: (timezone.now() - timedelta(hours=2), "first_response")})
    page = client_for(team["sato"]).get(f"/c/{conv.pk}/", **EN).content.decode()
    badge = r'<span class="due overdue" title="Due [^"]+">First response: overdue 2 h<'
    assert re.search(badge, page)


# --- the list's rows -------------------------------------------------------------------------


def test_each_row_shows_owner_wait_sla_snooze_and_tags(team, conv):
    sato = team["sato"]
    actions.assign_conversation(conv, assignee_id=sato.user_id, actor_id=sato.user_id)
    actions.tag_conversation(conv, "VIP", actor_id=sato.user_id)
    Conversation.objects.filter(pk=conv.pk).update(
        waiting_since=timezone.now() - timedelta(hours=5), status=Status.NEW
    )
    sla_state.set_due({conv.pk: (timezone.now() + timedelta(minutes=90), "first_response")})
    late = make_conversation(team["support"], message_id="t2@x.example", subject="至急")
    sla_state.set_due({late.pk: (timezone.now() - timedelta(minutes=30), "first_response")})
    client = client_for(sato)
    html = client.get(f"/m/{team['support'].pk}/new/", **EN).content.decode()
    row = _row(html, conv.pk)
    assert '<span class="name">佐藤</span>' in row and 'title="Assignee: 佐藤 花子"' in row
    assert '<span class="tag">VIP</span>' in row
    assert '<span class="badge waited">waiting 5 h</span>' in row
    assert re.search(r'<span class="due " title="Due [^"]+">1 h left</span>', row)
    overdue = _row(html, late.pk)
    assert re.search(r'<span class="due overdue" title="Due [^"]+">overdue 30 min</span>', overdue)
    client.post(f"/c/{conv.pk}/snooze", {"preset": "tomorrow"})
    held = _row(client.get(f"/m/{team['support'].pk}/hold/", **EN).content.decode(), conv.pk)
    assert re.search(r'<span class="snoozed" title="[^"]+">snoozed until [^<]*9:00</span>', held)


def _row(html: str, pk: int) -> str:
    found = re.search(rf'<li class="row[^"]*" data-conv="{pk}".*?</li>', html, re.S)
    assert found, f"no row of #{pk}"
    return found.group(0)


def test_due_first_puts_the_soonest_on_top_and_none_last(team):
    support = team["support"]
    convs = [make_conversation(support, message_id=f"d{i}@x.example") for i in range(4)]
    now = timezone.now()
    sla_state.set_due({convs[0].pk: (now + timedelta(hours=5), "first_response"),
                       convs[2].pk: (now - timedelta(hours=1), "first_response"),
                       convs[3].pk: (now + timedelta(hours=1), "first_response")})  # fmt: skip
    html = client_for(team["sato"]).get(f"/m/{support.pk}/new/?sort=due").content.decode()
    shown = [int(pk) for pk in re.findall(r'data-conv="(\d+)"', html)]
    assert shown == [convs[2].pk, convs[3].pk, convs[0].pk, convs[1].pk]
