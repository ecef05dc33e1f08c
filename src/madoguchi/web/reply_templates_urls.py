"""URLs of the reply_templates pages."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
