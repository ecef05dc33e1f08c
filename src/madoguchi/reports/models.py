"""The reports' rollups, kept as events happen (``reports.rollup``) and rebuilt from the
event history on demand (``madoguchi reports rebuild``).

A row of ``HourTotals`` counts one hour (UTC; its local day, weekday and hour kept beside
it) of one mailbox, for everyone (``agent`` 0,
``tag`` '') or for one agent (what that agent did) or for one tag (conversations that had
it then). ``DayTotals`` holds the same counts per local day (what periods read; the hours are for
the heat map). ``DayTimes`` holds how long first responses and resolutions took, in business
minutes, as a histogram per local day (percentiles cannot be added up; histograms can).
``TemplateDay`` counts the use of each template per day.
"""

from __future__ import annotations

from django.db import models

COUNTS = (
    "conversations", "messages_in", "replied", "closed", "reopened", "notes", "breaches",
    "tagged", "first_responses", "first_response_minutes", "resolutions",
    "resolution_minutes",
)  # fmt: skip


class Counts(models.Model):
    """The counts ``HourTotals`` and ``DayTotals`` keep (``COUNTS``), for their key."""

    #: New conversations (started by a customer's mail).
    conversations = models.BigIntegerField(default=0)
    #: Customers' mails, replies included.
    messages_in = models.BigIntegerField(default=0)
    #: Replies sent by people (not acknowledgements or rules).
    replied = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    reopened = models.BigIntegerField(default=0)
    notes = models.BigIntegerField(default=0)
    breaches = models.BigIntegerField(default=0)
    tagged = models.BigIntegerField(default=0)
    first_responses = models.BigIntegerField(default=0)
    first_response_minutes = models.BigIntegerField(default=0)
    resolutions = models.BigIntegerField(default=0)
    resolution_minutes = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class HourTotals(Counts):
    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    agent = models.BigIntegerField(default=0)
    tag = models.CharField(max_length=64, default="", blank=True)
    #: The hour in the mailbox's time zone, kept for grouping by day and for the heat map
    #: (``reports rebuild`` after the zone changes).
    day = models.DateField()
    weekday = models.PositiveSmallIntegerField()  # Monday 0
    local_hour = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "reports_hour"
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "agent", "tag", "hour"], name="reports_hour_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.hour:%Y-%m-%d %H}h"


class DayTotals(Counts):
    """The same counts per local day of the mailbox: what the figures and tables of a
    period read (a year is 365 rows per agent or tag, not 8,760)."""

    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    agent = models.BigIntegerField(default=0)
    tag = models.CharField(max_length=64, default="", blank=True)

    class Meta:
        db_table = "reports_day"
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "agent", "tag", "day"],
                                    name="reports_day_key")
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.day}"


class Metric(models.IntegerChoices):
    FIRST_RESPONSE = 1
    RESOLUTION = 2


class DayTimes(models.Model):
    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    #: The mailbox's local day.
    day = models.DateField()
    agent = models.BigIntegerField(default=0)
    tag = models.CharField(max_length=64, default="", blank=True)
    metric = models.PositiveSmallIntegerField(choices=Metric.choices)
    bucket = models.PositiveSmallIntegerField()
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "reports_times"
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "metric", "agent", "tag", "day", "bucket"],
                name="reports_times_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.day} {self.metric}#{self.bucket}"


class TemplateDay(models.Model):
    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    template = models.CharField(max_length=200)
    uses = models.BigIntegerField(default=0)

    class Meta:
        db_table = "reports_templates"
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "day", "template"],
                                    name="reports_templates_key")
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.template} {self.day}"
