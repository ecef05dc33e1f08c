"""Agents (team members), their roles and their mailbox memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    AGENT = "agent", _("Agent")


class Agent(models.Model):
    """A person of the team: Django's user plus what the inbox needs to know about them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(max_length=150, blank=True)
    #: '' means: follow the browser's Accept-Language.
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)
    time_zone = models.CharField(max_length=64, default="Asia/Tokyo")
    #: Notifications also by mail, to the user's address.
    notify_by_mail = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    @property
    def initials(self) -> str:
        return self.name[:2].upper() if self.name.isascii() else self.name[:1]


class Membership(models.Model):
    """An agent may see and work in a mailbox."""

    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    #: This agent's replies from this mailbox wait for a manager's approval.
    needs_approval = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "user"], name="membership_uniq")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.mailbox_id}"


class Invitation(models.Model):
    """A link that lets one person join the team. Only the token's hash is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    mailboxes = models.ManyToManyField("mailboxes.Mailbox", blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation",
    )
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"invitation for {self.email}"
