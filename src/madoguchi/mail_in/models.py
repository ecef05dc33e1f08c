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
