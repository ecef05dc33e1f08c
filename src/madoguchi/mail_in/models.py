"""The ingest ledger: raw mail as received, and what was taken from each IMAP folder."""

from __future__ import annotations

from django.db import models


class RawStatus(models.TextChoices):
    PENDING = "pending", "waiting to be parsed"
    DONE = "done", "parsed into a message"
    DUPLICATE = "duplicate", "same mail as an earlier one"
    FAILED = "failed", "failed, kept for retry"


class Source(models.TextChoices):
    LMTP = "lmtp"
    SMTP = "smtp"
    IMAP = "imap"
    IMPORT = "import"
    WEBHOOK = "webhook"


class RawMessage(models.Model):
    """The bytes of one received mail, stored before the source is told they were taken."""

    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    size = models.PositiveBigIntegerField()
    source = models.CharField(max_length=8, choices=Source.choices)
    origin = models.CharField(max_length=1024, blank=True)  # file path, IMAP folder/uid, peer
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=RawStatus.choices, default=RawStatus.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "sha256"], name="raw_sha_uniq"),
        ]
        indexes = [models.Index(fields=["status", "id"], name="raw_status_idx")]

    def __str__(self) -> str:
        return f"raw {self.pk} ({self.status})"


class ImapFolder(models.Model):
    """The UIDVALIDITY last seen for one folder of a mailbox's IMAP account."""

    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField()
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "name"], name="imapfolder_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uidvalidity})"


class ImapUid(models.Model):
    """One message taken from a folder: (UIDVALIDITY, UID) → the stored raw mail."""

    folder = models.ForeignKey(ImapFolder, on_delete=models.CASCADE, related_name="uids")
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    raw = models.ForeignKey(RawMessage, null=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    done_after_fetch = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["folder", "uidvalidity", "uid"], name="imapuid_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.uidvalidity}/{self.uid}"


class ImapLease(models.Model):
    """Which process may fetch a mailbox's IMAP account (``mail_in.watchers``).

    One row per mailbox. ``holder`` (``host:pid:random``) holds it until ``expires_at``
    (the database's clock) and renews it long before then; a holder that stops clears
    ``holder``, and one that crashed is outlived by its ``expires_at``. The row is only
    ever taken with one conditional UPDATE (free, expired or already mine), so two
    processes never hold it at once, on SQLite and on PostgreSQL. ``generation`` counts
    the times it changed hands.
    """

    mailbox = models.OneToOneField(
        "mailboxes.Mailbox", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    holder = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField()
    taken_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"lease of mailbox {self.mailbox_id}: {self.holder or 'free'}"
