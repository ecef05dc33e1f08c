"""Who is signed in and what their role allows (mailboxes: ``mailboxes.queries``)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

from madoguchi.accounts.models import Agent, Role


def agent_of(user: AbstractBaseUser | AnonymousUser) -> Agent | None:
    if not user.is_authenticated:
        return None
    return Agent.objects.filter(user_id=user.pk).first()


def require_admin(user: AbstractBaseUser | AnonymousUser) -> Agent:
    """The admin pages are for admins; anyone else gets the 403 page."""
    agent = agent_of(user)
    if agent is None or agent.role != Role.ADMIN or not user.is_active:
        raise PermissionDenied("admins only")
    return agent


def require_reviewer(user: AbstractBaseUser | AnonymousUser) -> Agent:
    """Approving replies is for managers and admins; anyone else gets the 403 page."""
    agent = agent_of(user)
    if agent is None or agent.role not in (Role.MANAGER, Role.ADMIN) or not user.is_active:
        raise PermissionDenied("managers only")
    return agent
