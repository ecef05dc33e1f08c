"""The audit log: what is recorded, by whom, and what never is (secret values)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory

from madoguchi.accounts import actions, audit
from madoguchi.accounts.models import AuditAction, AuditEntry, Role
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(team) -> User:
    return make_agent("boss", role=Role.ADMIN, display_name="").user


def test_record_keeps_actor_target_address_and_details(boss):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.44")
    entry = audit.record(AuditAction.EXPORT, actor=boss, target="support@example.jp",
                         request=request, format="mbox")  # fmt: skip
    entry.refresh_from_db()
    assert (entry.actor_name, entry.target, entry.ip) == (
        "boss",
        "support@example.jp",
        "192.0.2.44",
    )
    assert entry.details == {"format": "mbox"}
    assert audit.record("agent.role", actor=None, target="x").actor is None


def test_team_changes_are_recorded_with_who_did_them(team, boss):
    sato = team["sato"]
    actions.change_role(sato, Role.MANAGER, actor_id=boss.pk)
    actions.set_active(sato, False, actor_id=boss.pk)
    actions.set_members(team["support"], [boss], actor_id=boss.pk)
    actions.set_needs_approval(team["support"], [boss], actor_id=boss.pk)
    invitation, _token = actions.invite_agent(
        "new@example.jp", role=Role.AGENT, mailboxes=[team["sales"]], invited_by=boss
    )
    actions.revoke_invitation(invitation, actor_id=boss.pk)
    rows = set(AuditEntry.objects.filter(actor=boss).values_list("action", "target"))
    assert rows >= {
        ("agent.role", "sato"),
        ("agent.active", "sato"),
        ("member.added", "boss @ support@example.jp"),
        ("member.removed", "sato @ support@example.jp"),
        ("member.approval", "boss @ support@example.jp"),
        ("invitation.created", "new@example.jp"),
        ("invitation.revoked", "new@example.jp"),
    }
    role = AuditEntry.objects.get(action="agent.role")
    assert role.details == {"before": "agent", "after": "manager"}


def test_mailbox_settings_changes_name_fields_never_values(team, boss):
    update_mailbox(team["support"], actor_id=boss.pk, smtp_password="s3cret-value", name="新")
    entry = AuditEntry.objects.get(action=AuditAction.MAILBOX_SETTINGS)
    assert entry.actor_name == "boss" and entry.target == "support@example.jp"
    assert entry.details == {"fields": ["name", "smtp_password"]}
    assert "s3cret" not in str(entry.details)


def test_export_on_the_command_line_is_recorded(cli, team):
    cli("export", "--mailbox", "support@example.jp", "--format", "jsonl", check=True)
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.target == "support@example.jp" and entry.actor is None
    assert entry.details["via"] == "command line" and entry.details["messages"] == 0
