"""The search index: one ``Entry`` per message, per note, and one for each conversation's
tags, holding index tokens (``search.text.tokens``) per field.

The full-text index over the entries is the database's own, made by the migration:
SQLite — an FTS5 table ``search_fts`` (``ascii``: split at spaces) over this table as
external content, kept in step by triggers; PostgreSQL — a generated ``tsv`` column
(``to_tsvector('simple', ...)``, the fields weighted A–D so ``subject:``/``from:``/``to:``
can ask for one) with a GIN index. Entry ids grow with arrival, so newest-first is the
index's own order.
"""

from __future__ import annotations

from django.db import models


class EntryKind(models.TextChoices):
    MESSAGE = "message"
    NOTE = "note"
    TAGS = "tags"


class Entry(models.Model):
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        "conversations.Message", null=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.OneToOneField(
        "conversations.Note", null=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    #: When the message arrived (or the note was written): ``before:`` and ``after:``.
    at = models.DateTimeField()
    subject = models.TextField(blank=True)
    sender = models.TextField(blank=True)
    recipients = models.TextField(blank=True)
    body = models.TextField(blank=True)

    class Meta:
        db_table = "search_entry"
        indexes = [models.Index(fields=["conversation", "kind"], name="search_conv_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of #{self.conversation_id}"


class SavedSearch(models.Model):
    """A search an agent keeps as a view of their own in the rail (保存した検索)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_search_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name
