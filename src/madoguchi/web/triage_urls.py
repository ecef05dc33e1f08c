"""URLs of the triage pages."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
