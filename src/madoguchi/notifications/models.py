"""One thing an agent should know about: assigned, mentioned, a reply, an approval."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to you")
    MENTIONED = "mentioned", _("Mentioned you")
    CUSTOMER_REPLIED = "replied", _("Your customer replied")
    APPROVAL_ASKED = "asked", _("Approval asked")
    APPROVED = "approved", _("Your reply was approved")
    RETURNED = "returned", _("Your reply was sent back")
    FOLLOW_UP = "follow_up", _("No answer yet: follow up")
    SLA_BREACHED = "sla", _("A reply is overdue")
    RULE = "rule", _("A rule asked to tell you")
    WOKEN = "woken", _("A snoozed conversation is back")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at", "id"], name="notification_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class ConfirmedAddress(models.Model):
    """The address an agent proved they read, by opening the link mailed to it.

    Notification mail goes only here, and only while it is still the agent's address:
    changing the address asks for a new confirmation.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="confirmed_address"
    )
    email = models.CharField(max_length=320)  # lowercased
    confirmed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.email
