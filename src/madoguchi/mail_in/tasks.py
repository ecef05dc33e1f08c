"""Background tasks of the intake; each loads its row and calls one action."""

from __future__ import annotations

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport.
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage


@task()
def ingest_raw_message(raw_id: int) -> str:
    raw = RawMessage.objects.select_related("mailbox").filter(pk=raw_id).first()
    if raw is None:
        return "gone"
    actions.ingest_safely([raw])
    return RawMessage.objects.get(pk=raw_id).status
