"""The durable outbox: each outgoing message's bytes and delivery state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from madoguchi.mail_out.explain import Problem


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "waiting to be sent"
    SENDING = "sending", "being sent"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "taken back"
    AWAITING = "approval", "waiting for approval"
    RETURNED = "returned", "sent back by the reviewer"


class Outbox(models.Model):
    """One outgoing mail. Written with its Message in one transaction; a worker sends it."""

    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="outbox"
    )
    data = models.BinaryField()
    envelope_from = models.CharField(max_length=320)
    recipients = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    send_after = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    #: Why the last try failed (``smtp.Reason``), explained to the agent by ``explain``.
    error_reason = models.CharField(max_length=16, blank=True)
    #: The demo mailbox has no outgoing server: its mail is kept here, never sent.
    kept_locally = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: The conversation's status before this reply changed it (restored by undo).
    previous_status = models.CharField(max_length=8, blank=True)
    #: The status the author chose for after sending (done, on hold), applied on approval.
    then_status = models.CharField(max_length=8, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "send_after"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"outbox {self.pk} ({self.status})"

    def problem(self) -> Problem | None:
        """Why this mail has not left, in the reader's language, and what to do next."""
        from madoguchi.mail_out.explain import explain

        return explain(self)


class Draft(models.Model):
    """A reply being written, saved as the agent types; one per agent and conversation.

    Private to its author: no Events (it changes every few seconds) until it is sent.
    """

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="drafts"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to = models.TextField(blank=True)  # as typed
    cc = models.TextField(blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "author"], name="draft_uniq")
        ]

    def __str__(self) -> str:
        return f"draft {self.pk}"
