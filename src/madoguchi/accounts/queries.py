"""Who is signed in and what their role allows (mailboxes: ``mailboxes.queries``).

The web layer loads the signed-in ``Agent`` once per request (``web.agent_middleware``, with
its user) and hands it to every permission check; the checks here read only that object and
never query for the agent again.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied

from madoguchi.accounts.models import Agent, Role


def agent_of(user: AbstractBaseUser | AnonymousUser) -> Agent | None:
    """The agent of ``user`` with its user attached (no query when already loaded).

    For code that starts from a ``User`` (the WebSocket, notifications); pages get the agent
    from the request instead.
    """
    if not user.is_authenticated:
        return None
    if isinstance(user, User) and User.agent.is_cached(user):  # select_related("agent")
        return getattr(user, "agent", None)
    agent = Agent.objects.filter(user_id=user.pk).first()
    if agent is not None:
        agent.user = user  # type: ignore[assignment]  # the same object, not a second query
    return agent


def as_agent(who: Agent | AbstractBaseUser | AnonymousUser | None) -> Agent | None:
    """An ``Agent`` as is; a user's agent (one query unless already loaded); else None."""
    if who is None or isinstance(who, Agent):
        return who
    return agent_of(who)


def require_admin(agent: Agent | None) -> Agent:
    """The admin pages are for admins; anyone else gets the 403 page."""
    if agent is None or agent.role != Role.ADMIN or not agent.user.is_active:
        raise PermissionDenied("admins only")
    return agent


def require_reviewer(agent: Agent | None) -> Agent:
    """Approving replies is for managers and admins; anyone else gets the 403 page."""
    if agent is None or agent.role not in (Role.MANAGER, Role.ADMIN) or not agent.user.is_active:
        raise PermissionDenied("managers only")
    return agent
