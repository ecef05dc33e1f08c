"""Every write to passwords: a new password, a reset link made by an admin, a reset mail.

Events name the account and who acted, never the password or the link. Reset links are
Django's password-reset tokens: they stop working once the password changes (so each works
once), after a sign-in, and after ``PASSWORD_RESET_TIMEOUT`` (3 days).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from madoguchi.accounts import audit
from madoguchi.accounts.models import Agent, AuditAction
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event

#: At most one reset mail per account in this time, whoever asks (no mail bombing).
RESET_MAIL_INTERVAL = timedelta(minutes=5)
#: How long a reset link works (Django's PASSWORD_RESET_TIMEOUT default), for the texts.
LINK_DAYS = 3


def set_password(user: User, raw_password: str, *, actor_id: int | None, how: str) -> None:
    """Store a new password (``how``: "changed" by the user, "reset" through a link)."""
    with transaction.atomic():
        user.set_password(raw_password)
        user.save(update_fields=["password"])
        events.record(EventType.AGENT_PASSWORD_CHANGED, actor_id=actor_id, agent=user.pk, how=how)
        action = AuditAction.PASSWORD_CHANGED if how == "changed" else AuditAction.PASSWORD_RESET
        audit.record(action, actor=actor_id, target=user.get_username(), how=how)


def reset_path(user: User) -> str:
    """The path of a one-time link that lets ``user`` choose a new password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_reset_confirm", args=[uid, token])


def make_reset_link(agent: Agent, *, actor_id: int) -> str:
    """An admin makes a reset link to pass on; returns its path."""
    with transaction.atomic():
        record_admin_reset(agent, actor_id, "link")
    return reset_path(agent.user)


#: The event of each way an admin passes a reset link on.
ADMIN_RESET_EVENTS: dict[str, EventType] = {
    "link": EventType.AGENT_PASSWORD_LINK,
    "mail": EventType.AGENT_PASSWORD_MAIL,
}


def record_admin_reset(agent: Agent, actor_id: int, step: Literal["link", "mail"]) -> None:
    """The event and the audit entry of an admin's reset link (``step``: "link" or "mail")."""
    events.record(ADMIN_RESET_EVENTS[step], actor_id=actor_id, agent=agent.user_id)
    audit.record(
        AuditAction.PASSWORD_RESET, actor=actor_id, target=agent.user.get_username(), step=step
    )


def reset_mail_recipients(email: str) -> list[User]:
    """The active accounts with ``email`` that had no reset mail in the last few minutes;
    records the mail for each (the rate limit, and the audit trail)."""
    since = timezone.now() - RESET_MAIL_INTERVAL
    users = User.objects.filter(email__iexact=email, is_active=True, agent__isnull=False)
    chosen = []
    for user in users:
        with transaction.atomic():
            recent = Event.objects.filter(
                type=EventType.AGENT_PASSWORD_MAIL, data__agent=user.pk, created_at__gte=since
            )
            if not user.has_usable_password() or recent.exists():
                continue
            events.record(EventType.AGENT_PASSWORD_MAIL, actor_id=None, agent=user.pk)
            audit.record(AuditAction.PASSWORD_RESET, actor=None, target=email, step="mail")
        chosen.append(user)
    return chosen
