"""Customers (顧客): the team's own customer fields, organizations' names and merges.

The customer itself is ``conversations.Contact`` (made by intake for every sender, with
its addresses in ``ContactAddress``); this app adds what people keep about customers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from madoguchi.core.crypto import EncryptedTextField


class FieldKind(models.TextChoices):
    TEXT = "text", "テキスト"
    NUMBER = "number", "数値"
    DATE = "date", "日付"
    CHOICE = "choice", "選択肢"


class CustomerField(models.Model):
    """A field the team defines for every customer (会員番号, 契約プラン, 契約更新日)."""

    #: Where the value is kept in ``Contact.fields`` and the CSV column's name.
    key = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=FieldKind.choices, default=FieldKind.TEXT)
    #: The allowed values of a ``choice`` field.
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class Organization(models.Model):
    """What the team says about an organization: customers are grouped by ``key`` (a mail
    domain, or a name a person gave), the name shown instead of the key."""

    key = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or self.key


class CustomerMerge(models.Model):
    """One customer merged into another, with what it takes to undo it."""

    target = models.ForeignKey("conversations.Contact", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("conversations.Contact", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The source's address ids and conversation ids that moved to the target.
    addresses = models.JSONField(default=list)
    conversations = models.JSONField(default=list)
    #: Both customers' fields before the merge (name, company, phone, notes, fields...).
    target_before = models.JSONField(default=dict)
    source_before = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"#{self.source_id} into #{self.target_id}"


class CustomerPanel(models.Model):
    """Per mailbox, what the side panel of a conversation adds about its customer: links
    into the team's other systems (Salesforceで開く, 受注管理で注文を見る) and an HTTP source
    of customer information (``customers.panel``)."""

    mailbox = models.OneToOneField("mailboxes.Mailbox", on_delete=models.CASCADE, related_name="+")
    #: ``[{"label": …, "url": …}]``; a URL may hold {email} {name} {company} {domain}
    #: {order} {field:key} (``customers.links``).
    links = models.JSONField(default=list, blank=True)
    #: Finds order numbers in the subject (a regular expression, run with a time limit).
    order_pattern = models.CharField(max_length=200, blank=True)
    source_url = models.CharField(max_length=1000, blank=True)
    #: A header sent with each request (e.g. Authorization), its value kept encrypted.
    source_header = models.CharField(max_length=100, blank=True)
    source_secret = EncryptedTextField(blank=True)
    source_timeout_ms = models.PositiveIntegerField(default=3000)
    source_cache_seconds = models.PositiveIntegerField(default=300)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"panel of mailbox {self.mailbox_id}"
