"""URLs of the triage pages: snooze, wake and follow-up of one conversation (``triage``)."""

from django.urls import URLPattern, path

from madoguchi.web import triage

urlpatterns: list[URLPattern] = [
    path("c/<int:pk>/snooze", triage.snooze, name="snooze"),
    path("c/<int:pk>/wake", triage.wake, name="wake"),
    path("c/<int:pk>/follow-up", triage.follow_up, name="follow_up"),
    path("c/<int:pk>/follow-up/clear", triage.clear_follow_up, name="clear_follow_up"),
]
