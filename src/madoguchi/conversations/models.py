"""Contacts, conversations, messages and their attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Contact(models.Model):
    """A customer (顧客). Their history spans every mailbox; ``customers`` shows and edits
    them, merges two (and takes a merge back)."""

    name = models.CharField(max_length=255, blank=True)
    #: The organization's key: the mail domain of the first address, none for personal
    #: mail services (``contacts.organization_for``); a person may move it.
    organization = models.CharField(max_length=255, blank=True)
    company = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    #: Values of the team's own customer fields (``customers.models.CustomerField``), by key.
    fields = models.JSONField(default=dict, blank=True)
    #: Set when merged into another customer (hidden from lists until the merge is undone).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or f"contact {self.pk}"


class ContactAddress(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="addresses")
    email = models.CharField(max_length=320, unique=True)  # lowercased

    def __str__(self) -> str:
        return self.email


class Status(models.TextChoices):
    NEW = "new", "新着"
    OPEN = "open", "対応中"
    HOLD = "hold", "保留"
    DONE = "done", "対応完了"
    SPAM = "spam", "迷惑メール"
    TRASH = "trash", "ゴミ箱"


class Kind(models.TextChoices):
    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    BOUNCE = "bounce"


class Tag(models.Model):
    """A label shared by the whole team (as in Front and Help Scout), e.g. 請求 or VIP."""

    name = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """A thread with one customer in one mailbox. Its number is its id (shown as #123)."""

    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.CASCADE, related_name="conversations"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    subject = models.CharField(max_length=998, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NORMAL)
    #: A normal conversation whose words look automated: shown as a hint, never moved.
    kind_hint = models.CharField(max_length=12, blank=True)
    snippet = models.CharField(max_length=200, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField()
    waiting_since = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    #: Where a snoozed conversation wakes: "new" (back to 新着) or "owner" (to its assignee).
    snooze_back_to = models.CharField(max_length=8, blank=True)
    #: The SLA target still to meet (``due_kind``: "first_response" or "resolution") and when
    #: it is due, in business time; ``breached_at``: when it was missed (once).
    due_at = models.DateTimeField(null=True, blank=True)
    due_kind = models.CharField(max_length=16, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    #: When our first reply went out (first-response SLA).
    first_replied_at = models.DateTimeField(null=True, blank=True)
    #: "Remind me if no answer": when, and whom.
    follow_up_at = models.DateTimeField(null=True, blank=True)
    follow_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    closed_at = models.DateTimeField(null=True, blank=True)
    #: Mail came that the assignee (anyone, while nobody has it) has not opened yet.
    unread = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")

    class Meta:
        indexes = [
            models.Index(
                fields=["mailbox", "status", "assignee", "-last_activity_at", "-id"],
                name="conv_inbox_idx",
            ),
            models.Index(
                fields=["mailbox", "status", "-last_activity_at", "-id"], name="conv_tab_idx"
            ),
            models.Index(fields=["contact", "-last_activity_at"], name="conv_contact_idx"),
            # "Mine" across mailboxes: the agent's own conversations by tab, newest first.
            models.Index(
                fields=["assignee", "status", "-last_activity_at", "-id"], name="conv_mine_idx"
            ),
            # "Waiting longest" first: customers who wrote last and still wait for us.
            models.Index(
                fields=["mailbox", "status", "waiting_since", "id"], name="conv_waiting_idx"
            ),
            # "Due first", and the clock's scans (snoozes to wake, SLAs missed, follow-ups).
            models.Index(fields=["mailbox", "status", "due_at", "id"], name="conv_due_idx"),
            models.Index(fields=["snoozed_until"], name="conv_snooze_idx"),
            models.Index(fields=["follow_up_at"], name="conv_follow_up_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class Direction(models.TextChoices):
    IN = "in"
    OUT = "out"


class ThreadRule(models.TextChoices):
    TOKEN = "token", "our signed Message-ID"
    IN_REPLY_TO = "in_reply_to", "In-Reply-To"
    REFERENCES = "references", "References"
    SUBJECT_TAG = "subject_tag", "ticket tag in the subject"
    LATE_PARENT = "late_parent", "a reply to it had arrived first"
    NEW = "new", "new conversation"
    OWN = "own", "written here"


class Message(models.Model):
    """One inbound or outbound mail; the parsed fields derive from the raw bytes."""

    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    raw = models.OneToOneField(
        "mail_in.RawMessage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="message",
    )
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.IN)
    dedupe_key = models.CharField(max_length=512)
    message_id = models.CharField(max_length=512, blank=True)
    in_reply_to = models.CharField(max_length=512, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    from_name = models.CharField(max_length=255, blank=True)
    from_email = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    reply_text = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NORMAL)
    #: The structural evidence for ``kind`` (docs/mail/classification.md).
    kind_reason = models.CharField(max_length=120, blank=True)
    kind_hint = models.CharField(max_length=12, blank=True)
    thread_rule = models.CharField(max_length=16, choices=ThreadRule.choices)
    #: Inbound mail whose sender (or Reply-To) was not yet in the conversation: it joins,
    #: is shown as a new participant, and never becomes a reply's default recipient.
    new_participant = models.BooleanField(default=False)
    defects = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "dedupe_key"], name="message_dedupe_uniq")
        ]
        indexes = [
            models.Index(fields=["mailbox", "message_id"], name="message_mid_idx"),
            models.Index(fields=["conversation", "id"], name="message_conv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id}"


class MessageRef(models.Model):
    """A Message-ID that a message names in In-Reply-To or References.

    Lets a mail that arrives after its reply find the conversation the reply started.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="refs")
    mailbox = models.ForeignKey("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    ref = models.CharField(max_length=512)

    class Meta:
        indexes = [models.Index(fields=["mailbox", "ref"], name="messageref_idx")]

    def __str__(self) -> str:
        return self.ref


class Attachment(models.Model):
    """A file of a message; its bytes live once in the blob store under ``sha256``."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename


class Note(models.Model):
    """An internal note between the messages of a conversation. Never reaches the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    is_note = True  # lets the timeline template tell notes from messages and events

    class Meta:
        indexes = [models.Index(fields=["conversation", "id"], name="note_conv_idx")]

    def __str__(self) -> str:
        return f"note {self.pk}"
