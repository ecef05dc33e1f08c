"""Whose replies wait for approval: per agent, per mailbox, never a manager's."""

from __future__ import annotations

import pytest

from madoguchi.accounts.actions import set_needs_approval
from madoguchi.accounts.models import Role
from madoguchi.mail_out import actions as outbox
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(team):
    return make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])


def test_per_agent_approval_and_managers_are_never_held(team, boss):
    set_needs_approval(team["support"], [team["sato"].user])
    assert outbox.needs_approval(team["support"], team["sato"].user)
    assert not outbox.needs_approval(team["support"], boss.user)
    update_mailbox(team["support"], replies_need_approval=True)
    assert not outbox.needs_approval(team["support"], boss.user)
