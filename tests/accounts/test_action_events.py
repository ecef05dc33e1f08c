"""Each action of accounts (agents, memberships, invitations, passwords) and of live's
sign-out records exactly its events, as the registry declares them (``verify_action``)."""

from __future__ import annotations

import pytest

from madoguchi.accounts import actions, passwords
from madoguchi.accounts.models import Role
from madoguchi.core.event_types import EventType as T
from madoguchi.live.actions import end_session
from madoguchi.mailboxes.actions import create_mailbox
from tests.conversations.verify import verify_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return actions.create_agent("boss", password="pw-boss-123", role=Role.ADMIN)


@pytest.fixture
def box():
    return create_mailbox("support@example.jp", name="サポート")


def test_create_agent(boss):
    with verify_action() as seen:
        agent = actions.create_agent("sato", password="pw-sato-123", display_name="佐藤")
    assert seen.types == [T.AGENT_CREATED]
    assert seen.one(T.AGENT_CREATED).data == {"agent": agent.user_id, "role": Role.AGENT}


def test_memberships(boss, box):
    sato = actions.create_agent("sato", password="pw-sato-123")
    with verify_action() as seen:
        actions.add_member(box, sato.user, actor_id=boss.user_id)
        actions.add_member(box, sato.user, actor_id=boss.user_id)  # already: nothing
    assert seen.types == [T.MAILBOX_MEMBER_ADDED]
    assert seen.events[0].mailbox_id == box.pk and seen.events[0].data == {"user": sato.user_id}
    with verify_action() as seen:
        actions.set_needs_approval(box, [sato.user], actor_id=boss.user_id)
    assert seen.types == [T.MAILBOX_APPROVAL_CHANGED]
    assert seen.events[0].data == {"user": sato.user_id, "needs_approval": True}
    with verify_action() as seen:
        actions.set_members(box, [], actor_id=boss.user_id)
    assert seen.types == [T.MAILBOX_MEMBER_REMOVED]


def test_invitation_accepted_and_revoked(boss, box):
    with verify_action() as seen:
        invitation, _token = actions.invite_agent(
            "new@example.jp", role=Role.AGENT, mailboxes=[box], invited_by=boss.user
        )
    assert seen.types == [T.AGENT_INVITED]
    with verify_action() as seen:
        agent = actions.accept_invitation(
            invitation, username="new", password="pw-new-12345", display_name="新人"
        )
    assert set(seen.types) == {T.AGENT_CREATED, T.MAILBOX_MEMBER_ADDED, T.AGENT_JOINED}
    assert seen.one(T.AGENT_JOINED).actor_id == agent.user_id
    other, _ = actions.invite_agent(
        "other@example.jp", role=Role.AGENT, mailboxes=[], invited_by=boss.user
    )
    with verify_action() as seen:
        actions.revoke_invitation(other, actor_id=boss.user_id)
    assert seen.types == [T.AGENT_INVITATION_REVOKED]


def test_role_active_and_preferences(boss):
    sato = actions.create_agent("sato", password="pw-sato-123")
    with verify_action() as seen:
        actions.change_role(sato, Role.MANAGER, actor_id=boss.user_id)
        actions.set_active(sato, False, actor_id=boss.user_id)
    assert seen.types == [T.AGENT_ROLE, T.AGENT_ACTIVE]
    assert seen.events[0].data == {
        "agent": sato.user_id,
        "before": Role.AGENT,
        "after": Role.MANAGER,
    }
    assert seen.events[1].data == {"agent": sato.user_id, "active": False}
    with verify_action() as seen:
        actions.update_preferences(sato, display_name="佐藤", language="ja", time_zone="Asia/Tokyo")
    assert seen.types == [T.AGENT_PREFERENCES]


def test_passwords_and_sign_out(boss):
    sato = actions.create_agent("sato", password="pw-sato-123")
    with verify_action() as seen:
        passwords.set_password(sato.user, "a-new-pw-9876", actor_id=sato.user_id, how="changed")
        passwords.make_reset_link(sato, actor_id=boss.user_id)
    assert seen.types == [T.AGENT_PASSWORD_CHANGED, T.AGENT_PASSWORD_LINK]
    assert seen.events[0].data == {"agent": sato.user_id, "how": "changed"}
    with verify_action() as seen:
        end_session(sato.user_id, "a-session-key")
    assert seen.types == [T.SESSION_ENDED]
    assert "a-session-key" not in str(seen.events[0].data)  # a fingerprint, never the key
