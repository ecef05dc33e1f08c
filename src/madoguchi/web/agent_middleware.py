"""Load the signed-in agent once per request, and activate their language and time zone.

``request.agent`` is the ``Agent`` (with its user attached, no second query) or None; views
read it through ``web.current`` and hand it to every permission check.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from madoguchi.accounts.queries import agent_of


class AgentPreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        agent = agent_of(request.user)
        request.agent = agent  # type: ignore[attr-defined]
        if agent is not None:
            if agent.language:
                translation.activate(agent.language)
                request.LANGUAGE_CODE = agent.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(agent.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo("Asia/Tokyo"))
        response = self.get_response(request)
        timezone.deactivate()
        return response
