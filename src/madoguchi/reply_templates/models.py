"""Templates (定型文): saved replies with variables, shared or per mailbox, in folders."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Folder(models.Model):
    """A folder of templates (e.g. 請求, 配送); ``mailbox`` None: shared by every mailbox."""

    name = models.CharField(max_length=100)
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Template(models.Model):
    """A saved reply. ``body`` holds variables such as ``{{customer_name}}``
    (``reply_templates.variables``); ``mailbox`` None: usable from every mailbox."""

    name = models.CharField(max_length=200)
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)
    #: How often it was put in a reply (managers see which are used), and when last.
    use_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["mailbox", "name"], name="template_mailbox_idx")]

    def __str__(self) -> str:
        return self.name


class TemplateAttachment(models.Model):
    """A file that goes with the template; its bytes live in the blob store (``sha256``)."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.filename
