"""Every write to agents and memberships."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from madoguchi.accounts.models import Agent, Membership, Role
from madoguchi.core import events
from madoguchi.mailboxes.models import Mailbox


def create_agent(
    username: str,
    *,
    password: str,
    role: Role = Role.AGENT,
    display_name: str = "",
    email: str = "",
    language: str = "",
) -> Agent:
    with transaction.atomic():
        user = User.objects.create_user(username, email=email, password=password)
        agent = Agent.objects.create(
            user=user, role=role, display_name=display_name, language=language
        )
        events.record("agent.created", actor_id=None, agent=user.pk, role=role)
    return agent


def add_member(mailbox: Mailbox, user: User) -> None:
    with transaction.atomic():
        _, created = Membership.objects.get_or_create(mailbox=mailbox, user=user)
        if created:
            events.record("mailbox.member_added", mailbox_id=mailbox.pk, user=user.pk)


def update_preferences(agent: Agent, *, display_name: str, language: str, time_zone: str) -> None:
    """The agent changes their own name, language or time zone."""
    with transaction.atomic():
        agent.display_name, agent.language, agent.time_zone = display_name, language, time_zone
        agent.save(update_fields=["display_name", "language", "time_zone"])
        events.record(
            "agent.preferences", actor_id=agent.user_id, language=language, time_zone=time_zone
        )
