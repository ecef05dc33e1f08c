"""The signed-in agent of a request: loaded once (``agent_middleware``), then passed along.

Views that need an agent are decorated with ``agent_required`` and take an ``AgentRequest``,
whose ``agent`` is typed ``Agent`` (never None) and carries its user; permission checks
(``visible_mailboxes``, ``access_*``, ``require_*``) take that object and query nothing to
find it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from madoguchi.accounts.models import Agent

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


class AgentRequest(HttpRequest):
    """A request of a signed-in agent (only for typing: it is the same ``HttpRequest``)."""

    agent: Agent
    user: User


def current_agent(request: HttpRequest) -> Agent:
    """The request's agent; 403 for a signed-in user who is no agent (a bare Django user)."""
    agent: Agent | None = getattr(request, "agent", None)
    if agent is None:
        raise PermissionDenied("not an agent")
    return agent


def agent_required(
    view: Callable[Concatenate[AgentRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R]:
    """``login_required`` (to the sign-in page), then the signed-in user must be an agent."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R:
        current_agent(request)
        return view(cast(AgentRequest, request), *args, **kwargs)

    return login_required(wrapped)
