"""The rules pages over HTTP: who may use them, the builder without the script, the
try-out, the list's buttons, bad input, and the rule named in the timeline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.models import Agent, Role
from madoguchi.automation import rule_admin
from madoguchi.automation.models import Rule
from madoguchi.conversations.models import Conversation
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(team: dict[str, Any]) -> Agent:
    """A manager of the support mailbox."""
    return make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])


@pytest.fixture
def client(boss: Agent) -> Client:
    return client_for(boss, HTTP_ACCEPT_LANGUAGE="en")


def url(mailbox: Mailbox, rest: str = "") -> str:
    return f"/admin/mailboxes/{mailbox.pk}/rules/{rest}"


def form(**more: Any) -> dict[str, Any]:
    """A builder post: one condition (subject contains 請求) and one action (tag 請求)."""
    data: dict[str, Any] = {
        "name": "請求書",
        "match": "all",
        "enabled": "on",
        "c_field": ["subject"],
        "c_op": ["contains"],
        "c_value": ["請求"],
        "c_header": [""],
        "c_choice": ["kind:normal"],
        "a_type": ["tag"],
        "a_agent": [""],
        "a_who": ["assignee"],
        "a_group": [""],
        "a_strategy": ["round_robin"],
        "a_status": ["hold"],
        "a_tag": ["請求"],
        "a_template": [""],
    }
    data.update(more)
    return data


def make_rule(mailbox: Mailbox, name: str, **data: Any) -> Rule:
    return rule_admin.create_rule(
        mailbox,
        {
            "name": name,
            "conditions": [{"field": "subject", "op": "contains", "value": "請求"}],
            "actions": [{"type": "tag", "tag": name}],
            **data,
        },
        actor_id=None,
    )


# who


def test_managers_and_admins_may_agents_may_not(team: dict[str, Any], boss: Agent) -> None:
    support, sales = team["support"], team["sales"]
    assert client_for(boss).get(url(support)).status_code == 200
    assert client_for(boss).get(url(support, "new")).status_code == 200
    assert client_for(boss).get(url(sales)).status_code == 404  # not a mailbox of theirs
    admin = make_agent("admin", role=Role.ADMIN)
    assert client_for(admin).get(url(sales)).status_code == 200
    assert client_for(team["sato"]).get(url(support)).status_code == 403
    assert client_for(team["sato"]).post(url(support, "new"), form()).status_code == 403
    assert not Rule.objects.exists()
    assert Client().get(url(support)).status_code == 302  # to sign in


def test_a_rule_of_another_mailbox_is_not_found(team: dict[str, Any], client: Client) -> None:
    theirs = make_rule(team["sales"], "営業")
    for rest in (f"{theirs.pk}/", f"{theirs.pk}/delete"):
        assert client.get(url(team["support"], rest)).status_code == 404
    for rest in ("move", "enable", "copy", "delete"):
        assert client.post(url(team["support"], f"{theirs.pk}/{rest}")).status_code == 404
    assert client.get(url(team["support"], "99999/")).status_code == 404


# the builder


def test_create_a_rule(team: dict[str, Any], client: Client) -> None:
    sato = team["sato"].user_id
    response = client.post(
        url(team["support"], "new"),
        form(
            a_type=["assign", "tag"],
            a_agent=[str(sato), str(sato)],
            a_who=["assignee"] * 2,
            a_group=["", ""],
            a_strategy=["round_robin"] * 2,
            a_status=["hold"] * 2,
            a_tag=["", "請求"],
            a_template=["", ""],
        ),
    )
    assert response.status_code == 302 and response["Location"] == url(team["support"])
    rule = Rule.objects.get()
    assert (rule.name, rule.match, rule.enabled) == ("請求書", "all", True)
    assert rule.conditions == [{"field": "subject", "op": "contains", "value": "請求"}]
    assert rule.actions == [{"type": "assign", "agent": sato}, {"type": "tag", "tag": "請求"}]
    page = client.get(url(team["support"])).content.decode()
    assert "請求書" in page and "佐藤 花子" in page


def test_choice_and_header_conditions_and_blank_action_rows(
    team: dict[str, Any], client: Client
) -> None:
    response = client.post(
        url(team["support"], "new"),
        form(
            match="any",
            c_field=["kind", "header"],
            c_op=["is_not", "regex"],
            c_value=["", "^Becky"],
            c_header=["", "X-Mailer"],
            c_choice=["kind:bulk", "kind:normal"],
            a_type=["", "stop"],
            a_agent=["", ""],
            a_who=["", ""],
            a_group=["", ""],
            a_strategy=["", ""],
            a_status=["", ""],
            a_tag=["", ""],
            a_template=["", ""],
        ),
    )
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.conditions == [
        {"field": "kind", "op": "is_not", "value": "bulk"},
        {"field": "header", "op": "regex", "value": "^Becky", "header": "X-Mailer"},
    ]
    assert rule.actions == [{"type": "stop"}]
    # What was stored is what the builder shows again.
    page = client.get(url(team["support"], f"{rule.pk}/")).content.decode()
    assert 'value="kind:bulk" data-field="kind" selected' in page
    assert 'value="X-Mailer"' in page and 'value="^Becky"' in page


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": ""}, "The rule needs a name."),
        ({"c_op": ["regex"], "c_value": ["(unclosed"]}, "is not valid"),
        ({"c_value": [""]}, "needs a value"),
        ({"c_field": ["nonsense"]}, "Unknown condition field"),
        ({"c_field": ["kind"], "c_op": ["is"], "c_choice": ["hours:inside"]}, "not a choice"),
        ({"a_type": ["assign"], "a_agent": ["abc"]}, "Choose an agent of this mailbox."),
        ({"a_type": ["reply"], "a_template": ["12345"]}, "Choose a template"),
        ({"a_type": ["launch"]}, "Unknown action"),
        ({"a_type": [""]}, "needs at least one action"),
        ({"match": "some"}, "“all” or “any”"),
        ({"c_field": ["subject"] * 25}, "At most 20 rows."),
    ],
)
def test_bad_input_comes_back_with_errors(
    team: dict[str, Any], client: Client, change: dict[str, Any], problem: str
) -> None:
    response = client.post(url(team["support"], "new"), form(**change))
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert 'name="c_field"' in response.content.decode()  # the builder, as typed
    assert not Rule.objects.exists()


def test_nonsense_posts_never_fail(team: dict[str, Any], client: Client) -> None:
    """Missing columns, ragged rows, NUL bytes, huge values: a 400 page with the reason."""
    posts: list[dict[str, Any]] = [
        {},
        {"name": "x", "c_field": ["subject", "from"], "c_value": ["a"], "a_type": ["tag"]},
        {
            "name": "x\x00y",
            "c_field": ["subject"],
            "c_op": ["contains"],
            "c_value": ["a\x00"],
            "a_type": ["status"],
            "a_status": ["\x00"],
        },
        {
            "name": "x" * 5000,
            "c_field": ["header"],
            "c_op": ["equals"],
            "c_value": ["v"],
            "c_header": ["Bad Header:"],
            "a_type": ["notify"],
            "a_who": ["-1"],
        },
        {"name": "x", "a_type": ["assign_group"], "a_group": ["nope"], "a_strategy": ["off"]},
    ]
    for data in posts:
        response = client.post(url(team["support"], "new"), data)
        assert response.status_code == 400, data
    assert not Rule.objects.exists()


def test_add_and_remove_rows_without_the_script(team: dict[str, Any], client: Client) -> None:
    page = client.post(url(team["support"], "new"), form(add="condition")).content.decode()
    assert page.count('name="c_field"') == 3  # two rows and the script's template
    page = client.post(url(team["support"], "new"), form(add="action")).content.decode()
    assert page.count('name="a_type"') == 3
    page = client.post(url(team["support"], "new"), form(remove="condition-0")).content.decode()
    assert page.count('name="c_field"') == 1  # only the template
    page = client.post(url(team["support"], "new"), form(remove="action-x9")).content.decode()
    assert page.count('name="a_type"') == 2
    assert not Rule.objects.exists()


def test_edit_a_rule(team: dict[str, Any], client: Client) -> None:
    rule = make_rule(team["support"], "請求書")
    page = client.get(url(team["support"], f"{rule.pk}/")).content.decode()
    assert 'value="請求書"' in page and 'value="請求"' in page
    response = client.post(url(team["support"], f"{rule.pk}/"), form(name="請求書と見積"))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "請求書と見積" and rule.enabled
    client.post(url(team["support"], f"{rule.pk}/"), form(enabled=""))  # unchecked
    rule.refresh_from_db()
    assert not rule.enabled


# the try-out


def test_try_on_the_last_30_days(team: dict[str, Any], client: Client) -> None:
    support = team["support"]
    convs = [
        make_conversation(support, subject=f"請求書 {i}", message_id=f"t{i}@x.example")
        for i in range(3)
    ]
    make_conversation(support, subject="見積依頼", message_id="other@x.example")
    response = client.post(url(support, "new"), form(tryout="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Would have matched 3 conversations in the last 30 days." in page
    for conv in convs:
        assert f'href="/c/{conv.pk}/"' in page
    assert not Rule.objects.exists()  # nothing saved


def test_try_as_a_fragment(team: dict[str, Any], client: Client) -> None:
    make_conversation(team["support"], subject="請求書", message_id="f1@x.example")
    response = client.post(url(team["support"], "new"), form(tryout="1"), HTTP_X_FRAGMENT="tryout")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "Would have matched 1 conversation in the last 30 days." in page
    bad = client.post(
        url(team["support"], "new"),
        form(tryout="1", c_op=["regex"], c_value=["(("]),
        HTTP_X_FRAGMENT="tryout",
    )
    assert bad.status_code == 400 and "is not valid" in bad.content.decode()


# the list's buttons


def test_move_enable_copy_delete(team: dict[str, Any], client: Client) -> None:
    support = team["support"]
    a, b = make_rule(support, "A"), make_rule(support, "B")
    page = client.get(url(support)).content.decode()
    assert page.index(f"rule-{a.pk}") < page.index(f"rule-{b.pk}")
    response = client.post(url(support, f"{b.pk}/move"), {"step": "up"})
    assert response.status_code == 302 and response["Location"].endswith(f"#rule-{b.pk}")
    names = list(Rule.objects.filter(mailbox=support).values_list("name", flat=True))
    assert names == ["B", "A"]
    client.post(url(support, f"{b.pk}/move"), {"step": "sideways"})  # ignored
    client.post(url(support, f"{a.pk}/enable"), {"enabled": "0"})
    a.refresh_from_db()
    assert not a.enabled
    assert "Switch on" in client.get(url(support), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(url(support, f"{b.pk}/copy"))
    assert list(Rule.objects.filter(mailbox=support).values_list("name", "position")) == [
        ("B", 0),
        ("B (copy)", 1),
        ("A", 2),
    ]
    confirm = client.get(url(support, f"{a.pk}/delete"), HTTP_ACCEPT_LANGUAGE="en")
    assert confirm.status_code == 200 and "Delete the rule “A”?" in confirm.content.decode()
    assert Rule.objects.filter(pk=a.pk).exists()  # asking deletes nothing
    assert client.post(url(support, f"{a.pk}/delete")).status_code == 302
    assert not Rule.objects.filter(pk=a.pk).exists()
    assert client.get(url(support, f"{a.pk}/move")).status_code == 405


def test_list_in_words(team: dict[str, Any], client: Client) -> None:
    support = team["support"]
    rule_admin.create_rule(
        support,
        {
            "name": "夜間",
            "match": "any",
            "conditions": [
                {"field": "hours", "op": "is", "value": "outside"},
                {"field": "header", "header": "X-Mailer", "op": "contains", "value": "B"},
            ],
            "actions": [
                {"type": "assign", "agent": team["sato"].user_id},
                {"type": "notify", "agent": "assignee"},
                {"type": "spam"},
                {"type": "stop"},
                {"type": "assign_group", "group": None, "strategy": "fewest_open"},
            ],
        },
        actor_id=None,
    )
    page = client.get(url(support), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "When any of: Arrived is outside business hours · Header X-Mailer contains “B”" in text
    assert "Assign to 佐藤 花子 · Notify the assignee · Mark as spam" in text
    assert "Stop: no later rule for this mail" in text


# the timeline


def test_the_timeline_names_the_rule(team: dict[str, Any]) -> None:
    rule_admin.create_rule(
        team["support"],
        {
            "name": "請求書",
            "conditions": [{"field": "subject", "op": "contains", "value": "請求"}],
            "actions": [
                {"type": "assign", "agent": team["sato"].user_id},
                {"type": "tag", "tag": "請求"},
            ],
        },
        actor_id=None,
    )
    conv = make_conversation(team["support"], subject="請求書の再発行")
    conv = Conversation.objects.get(pk=conv.pk)
    assert conv.assignee_id == team["sato"].user_id
    page = client_for(team["sato"]).get(f"/c/{conv.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = " ".join(re.sub(r"<[^>]+>", " ", page.content.decode()).split())
    assert "assigned it to 佐藤 花子 by the rule “請求書”" in text
    assert "tagged it 請求 by the rule “請求書”" in text
    assert "changed the status from New to In progress by the rule “請求書”" in text
    assert Event.objects.filter(conversation=conv, type=EventType.RULE_APPLIED).count() == 1
