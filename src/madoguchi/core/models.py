"""Domain-free models: the Event log that every action writes to."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Event(models.Model):
    """One change in the system (received, assigned, replied...).

    The source of the activity log, and later of real-time updates and webhooks. Holds ids
    and small facts only, never message content.
    """

    type = models.CharField(max_length=64)
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "id"], name="event_conv_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
