"""URL map. The web screens arrive with the team-inbox issue; for now a health check."""

from django.http import HttpRequest, JsonResponse
from django.urls import path


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("healthz", health, name="health")]
