"""Mark each page with the newest event id, read before the view reads anything.

The page's live connection asks for events after it: a change committed while the view
was reading is then sent again (harmless) rather than lost. Requests the page's script
makes for its live updates (header ``X-Live``: the fragments, a page fetched again) start
no connection, so they skip the query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Max
from django.http import HttpRequest, HttpResponse

from madoguchi.core.models import Event


class LiveCursorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "GET"
            and request.user.is_authenticated
            and "X-Live" not in request.headers
        ):
            request.live_after = Event.objects.aggregate(top=Max("id"))["top"] or 0  # type: ignore[attr-defined]
        return self.get_response(request)
