"""Background delivery of the outbox."""

from __future__ import annotations

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport.
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from madoguchi.mail_out import actions


@task()
def deliver_outbound(outbox_id: int) -> str:
    return actions.deliver(outbox_id)
