"""Every write to agents, memberships and invitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from madoguchi.accounts import audit
from madoguchi.accounts.models import Agent, AuditAction, Invitation, Membership, Role
from madoguchi.core import events
from madoguchi.core.event_types import EventType

if TYPE_CHECKING:  # memberships name mailboxes; accounts sits below mailboxes
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
        events.record(EventType.AGENT_CREATED, actor_id=None, agent=user.pk, role=role)
        audit.record(AuditAction.AGENT_CREATED, actor=None, target=username, role=role)
    return agent


def add_member(mailbox: Mailbox, user: User, *, actor_id: int | None = None) -> None:
    with transaction.atomic():
        _, created = Membership.objects.get_or_create(mailbox=mailbox, user=user)
        if created:
            events.record(
                EventType.MAILBOX_MEMBER_ADDED,
                mailbox_id=mailbox.pk,
                actor_id=actor_id,
                user=user.pk,
            )
            audit.record(AuditAction.MEMBER_ADDED, actor=actor_id,
                         target=f"{user.get_username()} @ {mailbox.address}")  # fmt: skip


def set_members(mailbox: Mailbox, users: list[User], *, actor_id: int | None = None) -> None:
    """Make ``users`` exactly the members of ``mailbox``, one event per change."""
    with transaction.atomic():
        wanted = {u.pk for u in users}
        current = set(Membership.objects.filter(mailbox=mailbox).values_list("user_id", flat=True))
        for user in users:
            if user.pk not in current:
                add_member(mailbox, user, actor_id=actor_id)
        gone = current - wanted
        Membership.objects.filter(mailbox=mailbox, user_id__in=gone).delete()
        for user_id in sorted(gone):
            events.record(
                EventType.MAILBOX_MEMBER_REMOVED,
                mailbox_id=mailbox.pk,
                actor_id=actor_id,
                user=user_id,
            )
            audit.record(AuditAction.MEMBER_REMOVED, actor=actor_id,
                         target=f"{audit.username_of(user_id)} @ {mailbox.address}")  # fmt: skip


def set_needs_approval(mailbox: Mailbox, users: list[User], *, actor_id: int | None = None) -> None:
    """Make the replies of exactly these members of ``mailbox`` wait for approval."""
    with transaction.atomic():
        wanted = {u.pk for u in users}
        for m in Membership.objects.filter(mailbox=mailbox).select_for_update():
            if m.needs_approval != (m.user_id in wanted):
                m.needs_approval = m.user_id in wanted
                m.save(update_fields=["needs_approval"])
                events.record(
                    EventType.MAILBOX_APPROVAL_CHANGED,
                    mailbox_id=mailbox.pk,
                    actor_id=actor_id,
                    user=m.user_id,
                    needs_approval=m.needs_approval,
                )
                audit.record(AuditAction.APPROVAL, actor=actor_id,
                             target=f"{audit.username_of(m.user_id)} @ {mailbox.address}",
                             needs_approval=m.needs_approval)  # fmt: skip


def update_preferences(
    agent: Agent,
    *,
    display_name: str,
    language: str,
    time_zone: str,
    notify_by_mail: bool | None = None,
    email: str | None = None,
) -> None:
    """The agent changes their own name, language, time zone or notification mail."""
    with transaction.atomic():
        agent.display_name, agent.language, agent.time_zone = display_name, language, time_zone
        if notify_by_mail is not None:
            agent.notify_by_mail = notify_by_mail
        agent.save(update_fields=["display_name", "language", "time_zone", "notify_by_mail"])
        if email is not None and email != agent.user.email:
            agent.user.email = email
            agent.user.save(update_fields=["email"])
        events.record(
            EventType.AGENT_PREFERENCES,
            actor_id=agent.user_id,
            language=language,
            time_zone=time_zone,
        )


INVITATION_DAYS = 7


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_agent(
    email: str, *, role: Role, mailboxes: list[Mailbox], invited_by: User
) -> tuple[Invitation, str]:
    """A new invitation and its token (shown once, in the link; only its hash is kept)."""
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email.lower(),
            role=role,
            token_hash=token_hash(token),
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        invitation.mailboxes.set(mailboxes)
        events.record(
            EventType.AGENT_INVITED, actor_id=invited_by.pk, invitation=invitation.pk, role=role
        )
        audit.record(AuditAction.INVITED, actor=invited_by, target=invitation.email, role=role,
                     mailboxes=[m.address for m in mailboxes])  # fmt: skip
    return invitation, token


def open_invitation(token: str) -> Invitation | None:
    """The invitation of ``token`` if it can still be accepted."""
    return (
        Invitation.objects.filter(
            token_hash=token_hash(token),
            accepted_by__isnull=True,
            revoked=False,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .first()
    )


def accept_invitation(
    invitation: Invitation, *, username: str, password: str, display_name: str
) -> Agent:
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_by_id is not None or locked.revoked:
            raise ValueError("invitation already used")
        agent = create_agent(
            username,
            password=password,
            role=Role(locked.role),
            display_name=display_name,
            email=locked.email,
        )
        for mailbox in locked.mailboxes.all():
            add_member(mailbox, agent.user, actor_id=agent.user_id)
        locked.accepted_by = agent.user
        locked.save(update_fields=["accepted_by"])
        events.record(EventType.AGENT_JOINED, actor_id=agent.user_id, invitation=locked.pk)
        audit.record(AuditAction.JOINED, actor=agent.user, target=locked.email, username=username)
    return agent


def revoke_invitation(invitation: Invitation, *, actor_id: int) -> None:
    with transaction.atomic():
        invitation.revoked = True
        invitation.save(update_fields=["revoked"])
        events.record(
            EventType.AGENT_INVITATION_REVOKED, actor_id=actor_id, invitation=invitation.pk
        )
        audit.record(AuditAction.INVITATION_REVOKED, actor=actor_id, target=invitation.email)


def change_role(agent: Agent, role: Role, *, actor_id: int) -> None:
    with transaction.atomic():
        if agent.role == role:
            return
        before, agent.role = agent.role, role
        agent.save(update_fields=["role"])
        events.record(
            EventType.AGENT_ROLE, actor_id=actor_id, agent=agent.user_id, before=before, after=role
        )
        audit.record(AuditAction.ROLE, actor=actor_id, target=agent.user.get_username(),
                     before=before, after=role)  # fmt: skip


def set_active(agent: Agent, active: bool, *, actor_id: int) -> None:
    """Deactivate (cannot sign in, history kept) or reactivate an agent."""
    with transaction.atomic():
        user = agent.user
        if user.is_active == active:
            return
        user.is_active = active
        user.save(update_fields=["is_active"])
        events.record(EventType.AGENT_ACTIVE, actor_id=actor_id, agent=user.pk, active=active)
        audit.record(AuditAction.ACTIVE, actor=actor_id, target=user.get_username(), active=active)
