"""Who may see what. Every page, fragment, attachment and action goes through ``access_*``.

A missing object and a forbidden one both raise ``Http404``, so nobody learns which
conversation numbers exist in mailboxes they do not belong to.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from madoguchi.accounts.models import Agent, Role
from madoguchi.mailboxes.models import Mailbox


def agent_of(user: AbstractBaseUser | AnonymousUser) -> Agent | None:
    if not user.is_authenticated:
        return None
    return Agent.objects.filter(user_id=user.pk).first()


def visible_mailboxes(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Mailbox]:
    """Admins see every mailbox; everyone else the mailboxes they are a member of."""
    agent = agent_of(user)
    if agent is None:
        return Mailbox.objects.none()
    if agent.role == Role.ADMIN:
        return Mailbox.objects.all()
    return Mailbox.objects.filter(memberships__user_id=agent.user_id)


def access_mailbox(user: AbstractBaseUser | AnonymousUser, mailbox_id: int) -> Mailbox:
    mailbox = visible_mailboxes(user).filter(pk=mailbox_id).first()
    if mailbox is None:
        raise Http404("no such mailbox")
    return mailbox


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
