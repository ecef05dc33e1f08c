"""Notification mail, sent by the task worker after the notification committed."""

from __future__ import annotations

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport.
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from madoguchi.notifications import actions


@task()
def mail_notification(notification_id: int, attempt: int = 1) -> str:
    return actions.send_mail(notification_id, attempt)


@task()
def mail_confirmation(user_id: int, email: str) -> str:
    return actions.send_confirmation(user_id, email)
