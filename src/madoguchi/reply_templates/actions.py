"""Changes to templates (定型文), their files and folders, and counting their use.

The caller has checked that the actor may manage the template's mailbox
(``queries.may_manage``) and that a folder fits it (``queries.folder_fits``). Saving and
deleting a template records TEMPLATE_SAVED / TEMPLATE_DELETED; each use in a reply
records TEMPLATE_USED in that conversation (quiet: not a timeline entry). Folders are
only a way of arranging the list and record nothing.

A template's files live in the blob store like mail attachments (``core.blobs``, by
SHA-256): deleting a template or a file removes the row, never the bytes, which other
templates or mails may share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from madoguchi.conversations.models import Conversation
from madoguchi.core import blobs, events
from madoguchi.core.event_types import EventType
from madoguchi.mail import header_values as safe
from madoguchi.reply_templates.models import Folder, Template, TemplateAttachment
from madoguchi.reply_templates.queries import folder_fits, usable_ids

#: The fields of a template ``update_template`` may change.
FIELDS = ("name", "subject", "body", "mailbox_id", "folder_id")


class FolderMismatch(ValueError):
    """A mailbox's template in another mailbox's folder, or a shared one in a mailbox's."""


def create_folder(*, name: str, mailbox_id: int | None, position: int = 0) -> Folder:
    return Folder.objects.create(name=name.strip()[:100], mailbox_id=mailbox_id, position=position)


def rename_folder(folder: Folder, *, name: str, position: int | None = None) -> Folder:
    folder.name = name.strip()[:100]
    if position is not None:
        folder.position = position
    folder.save(update_fields=["name", "position"])
    return folder


def delete_folder(folder: Folder) -> None:
    """Its templates stay, outside any folder."""
    folder.delete()


def _check_folder(folder_id: int | None, mailbox_id: int | None) -> None:
    folder = Folder.objects.filter(pk=folder_id).first() if folder_id else None
    if folder_id and folder is None:
        raise FolderMismatch(f"no folder {folder_id}")
    if not folder_fits(folder, mailbox_id):
        raise FolderMismatch("the folder belongs to another mailbox")


def create_template(
    *,
    name: str,
    body: str,
    actor_id: int | None,
    subject: str = "",
    mailbox_id: int | None = None,
    folder_id: int | None = None,
) -> Template:
    """A new template; shared by every mailbox when ``mailbox_id`` is None."""
    with transaction.atomic():
        _check_folder(folder_id, mailbox_id)
        template = Template.objects.create(
            name=name, body=body, subject=subject, mailbox_id=mailbox_id, folder_id=folder_id,
            created_by_id=actor_id,
        )  # fmt: skip
        _saved(template, actor_id=actor_id, change="created")
    return template


def update_template(template: Template, *, actor_id: int | None, **fields: object) -> Template:
    """Change some of ``FIELDS``; the event names the fields that changed."""
    if unknown := set(fields) - set(FIELDS):
        raise TypeError(f"not a template field: {', '.join(sorted(unknown))}")
    changed = [name for name, value in fields.items() if getattr(template, name) != value]
    if not changed:
        return template
    with transaction.atomic():
        for name in changed:
            setattr(template, name, fields[name])
        _check_folder(template.folder_id, template.mailbox_id)
        template.save(update_fields=[*(n.removesuffix("_id") for n in changed), "updated_at"])
        _saved(template, actor_id=actor_id, change=",".join(n.removesuffix("_id") for n in changed))
    return template


def delete_template(template: Template, *, actor_id: int | None) -> None:
    with transaction.atomic():
        events.record(
            EventType.TEMPLATE_DELETED,
            mailbox_id=template.mailbox_id,
            actor_id=actor_id,
            template=template.pk,
            name=template.name,
        )
        template.delete()


def add_attachment(
    template: Template, *, filename: str, content_type: str, data: bytes, actor_id: int | None
) -> TemplateAttachment:
    """Store the file's bytes (once per content) and attach it to ``template``; named as
    a mail will name it (``header_values.file_name``)."""
    digest = hashlib.sha256(data).hexdigest()
    blobs.store(digest, data)
    with transaction.atomic():
        attachment = TemplateAttachment.objects.create(
            template=template,
            filename=safe.file_name(filename or "file")[:255],
            content_type=safe.content_type(content_type or "application/octet-stream")[:255],
            size=len(data),
            sha256=digest,
        )
        Template.objects.filter(pk=template.pk).update(updated_at=timezone.now())
        _saved(template, actor_id=actor_id, change="attachment added")
    return attachment


def remove_attachment(attachment: TemplateAttachment, *, actor_id: int | None) -> None:
    template = attachment.template
    with transaction.atomic():
        attachment.delete()
        Template.objects.filter(pk=template.pk).update(updated_at=timezone.now())
        _saved(template, actor_id=actor_id, change="attachment removed")


def count_use(template_ids: Iterable[int], *, conv: Conversation, actor_id: int | None) -> int:
    """The templates were put in a reply of ``conv`` (queued now): each usable one counts
    once (``use_count``, ``last_used_at``) with a TEMPLATE_USED event. How many counted."""
    ids = usable_ids(template_ids, mailbox_id=conv.mailbox_id)
    if not ids:
        return 0
    with transaction.atomic():
        Template.objects.filter(pk__in=ids).update(
            use_count=F("use_count") + 1, last_used_at=timezone.now()
        )
        names = dict(Template.objects.filter(pk__in=ids).values_list("pk", "name"))
        events.record_many([
            events.build(
                EventType.TEMPLATE_USED, mailbox_id=conv.mailbox_id, conversation_id=conv.pk,
                actor_id=actor_id, template=pk, name=names[pk],
            )
            for pk in ids if pk in names
        ])  # fmt: skip
    return len(names)


def _saved(template: Template, *, actor_id: int | None, change: str) -> None:
    events.record(
        EventType.TEMPLATE_SAVED,
        mailbox_id=template.mailbox_id,
        actor_id=actor_id,
        template=template.pk,
        name=template.name,
        change=change,
    )
