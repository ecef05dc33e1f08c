"""Rules (振り分けルール), assignment groups and policies, acknowledgements and SLA targets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Strategy(models.TextChoices):
    OFF = "off", _("Nobody (wait in Unassigned)")
    ROUND_ROBIN = "round_robin", _("Round robin")
    FEWEST_OPEN = "fewest_open", _("Fewest open conversations")
    STICKY = "sticky", _("Whoever last handled this customer")


class Rule(models.Model):
    """One sorting rule of a mailbox, tried in ``position`` order on each new mail.

    ``conditions``: a list of {"field", "op", "value"} (and "header" for a header
    condition), combined by ``match`` ("all" or "any"); ``actions``: a list of {"type", ...}
    (``automation.rules`` says what each may hold).
    """

    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    match = models.CharField(max_length=3, default="all")
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)
    #: How many mails it matched, and when last (managers see which rules work).
    match_count = models.PositiveIntegerField(default=0)
    last_matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mailbox", "position", "id"]
        indexes = [models.Index(fields=["mailbox", "position"], name="rule_mailbox_idx")]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    """An agent group (担当グループ, e.g. 請求, 技術) that conversations can be given to."""

    name = models.CharField(max_length=100, unique=True)
    strategy = models.CharField(
        max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GroupMember", related_name="agent_groups"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    """One agent in a group; ``last_assigned_at`` is the round-robin's memory."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_member_uniq")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class AssignmentPolicy(models.Model):
    """How a mailbox hands out its new conversations.

    ``strategy`` among the mailbox's members (or ``group``'s, when set); ``max_open``: an
    agent with this many open conversations gets no more (None: no cap);
    ``reoffer_after_minutes``: an absent assignee's conversation with a new customer reply
    is handed on after this long (引き継ぎ; None: never).
    """

    mailbox = models.OneToOneField(
        "mailboxes.Mailbox", on_delete=models.CASCADE, related_name="assignment_policy"
    )
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.OFF)
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    max_open = models.PositiveIntegerField(null=True, blank=True)
    reoffer_after_minutes = models.PositiveIntegerField(null=True, blank=True)
    #: Round-robin memory of the mailbox's members: {user id: ISO time last given one}.
    last_assigned = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.mailbox_id}: {self.strategy}"


class AutoReply(models.Model):
    """The acknowledgement (受付自動返信) a mailbox sends to new conversations."""

    mailbox = models.OneToOneField(
        "mailboxes.Mailbox", on_delete=models.CASCADE, related_name="auto_reply"
    )
    enabled = models.BooleanField(default=False)
    template = models.ForeignKey(
        "reply_templates.Template", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    only_outside_hours = models.BooleanField(default=False)
    #: No second acknowledgement to a sender answered within this many hours.
    quiet_hours = models.PositiveIntegerField(default=24)

    def __str__(self) -> str:
        return f"{self.mailbox_id}: {'on' if self.enabled else 'off'}"


class SlaTarget(models.Model):
    """Response targets of a mailbox, in business minutes; with ``tag``, for the
    conversations that carry it (a tag's target wins over the mailbox's)."""

    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(
        "conversations.Tag", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "tag"], name="sla_target_uniq"),
            models.UniqueConstraint(
                fields=["mailbox"], condition=models.Q(tag__isnull=True), name="sla_mailbox_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}/{self.tag_id}"
