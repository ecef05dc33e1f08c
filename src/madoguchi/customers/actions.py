"""Changes to customers: their details, the team's fields, organizations, merging two
customers and taking a merge back. Each records its event (``core.event_types``).

The caller has checked that the actor may see the customers (``queries.access_customer``)
and, for fields, may define them (``queries.may_define_fields``).

A merge moves the source's addresses and conversations to the target; the target keeps
its own details and takes the source's where it has none (notes are joined); the source
stays, marked ``merged_into``, so that ``undo_merge`` can give back what was moved: the
addresses, the conversations moved then and those that arrived since from those addresses,
and both customers' details as they were.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from madoguchi.conversations import actions as conversation_actions
from madoguchi.conversations.models import Contact, ContactAddress, Conversation, Message
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.customers.links import pattern_error, template_error
from madoguchi.customers.models import (
    CustomerField,
    CustomerMerge,
    CustomerPanel,
    FieldKind,
    Organization,
)
from madoguchi.customers.values import BadValue, clean

#: What ``update_customer`` may change (and a merge combines).
DETAILS = ("name", "company", "phone", "organization", "notes")
_LIMITS = {"name": 255, "company": 255, "phone": 64, "organization": 255, "notes": 10_000}


class AddressTaken(ValueError):
    """The address belongs to another customer (merge them instead)."""

    def __init__(self, email: str, owner: int) -> None:
        super().__init__(email)
        self.email = email
        self.owner = owner


def _snapshot(contact: Contact) -> dict[str, Any]:
    return {**{name: getattr(contact, name) for name in DETAILS}, "fields": dict(contact.fields)}


def update_customer(
    contact: Contact, *, actor_id: int | None, values: dict[str, str], fields: dict[str, str]
) -> list[str]:
    """Change the details in ``values`` and the team's fields in ``fields`` (by key, raw
    values: ``values.clean`` raises ``BadValue``); what changed."""
    known = {f.key: f for f in CustomerField.objects.all()}
    changed: list[str] = []
    for name, given in values.items():
        if name not in DETAILS:
            raise KeyError(name)
        value = given.strip()[: _LIMITS[name]]
        if name == "organization":
            value = value.lower()
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    stored = dict(contact.fields)
    for key, raw in fields.items():
        field = known.get(key)
        if field is None:
            raise KeyError(key)
        try:
            value = clean(field.kind, raw, field.choices)
        except BadValue as bad:
            bad.field = key
            raise
        if stored.get(key, "") != value:
            if value:
                stored[key] = value
            else:
                stored.pop(key, None)
            changed.append(key)
    if not changed:
        return []
    contact.fields = stored
    with transaction.atomic():
        contact.save()
        events.record(
            EventType.CUSTOMER_UPDATED, actor_id=actor_id, customer=contact.pk, fields=changed
        )
    return changed


def add_address(contact: Contact, email: str, *, actor_id: int | None) -> None:
    address = email.strip().lower()[:320]
    if "@" not in address:
        raise ValueError(email)
    owner = ContactAddress.objects.filter(email=address).values_list("contact_id", flat=True)
    if owner and owner[0] != contact.pk:
        raise AddressTaken(address, owner[0])
    with transaction.atomic():
        _, created = ContactAddress.objects.get_or_create(contact=contact, email=address)
        if created:
            events.record(EventType.CUSTOMER_UPDATED, actor_id=actor_id, customer=contact.pk,
                          fields=["addresses"])  # fmt: skip


def create_customer(
    *, actor_id: int | None, name: str, emails: list[str], values: dict[str, str] | None = None
) -> Contact:
    """A customer added by hand (or by an import line)."""
    with transaction.atomic():
        contact = Contact.objects.create(name=name.strip()[:255])
        for email in emails:
            add_address(contact, email, actor_id=None)
        update_customer(contact, actor_id=actor_id, values=values or {}, fields={})
    return contact


@transaction.atomic
def merge_customers(target: Contact, source: Contact, *, actor_id: int | None) -> CustomerMerge:
    """Merge ``source`` into ``target`` (see the module's docstring)."""
    if target.pk == source.pk or source.merged_into_id is not None:
        raise ValueError("a customer merges into another customer once")
    addresses = list(ContactAddress.objects.filter(contact=source).values_list("pk", flat=True))
    conversations = list(Conversation.objects.filter(contact=source).values_list("pk", flat=True))
    merge = CustomerMerge.objects.create(
        target=target, source=source, actor_id=actor_id, addresses=addresses,
        conversations=conversations, target_before=_snapshot(target),
        source_before=_snapshot(source),
    )  # fmt: skip
    ContactAddress.objects.filter(pk__in=addresses).update(contact=target)
    conversation_actions.change_customer(conversations, before=source.pk, after=target.pk)
    for name in DETAILS:
        mine, theirs = getattr(target, name), getattr(source, name)
        if name == "notes" and mine and theirs:
            target.notes = f"{mine}\n\n{theirs}"[: _LIMITS["notes"]]
        elif not mine and theirs:
            setattr(target, name, theirs)
    target.fields = {**source.fields, **target.fields}
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    events.record(
        EventType.CUSTOMER_MERGED, actor_id=actor_id, customer=target.pk, merged=source.pk,
        merge=merge.pk, conversations=len(conversations),
    )  # fmt: skip
    return merge


@transaction.atomic
def undo_merge(merge: CustomerMerge, *, actor_id: int | None) -> int:
    """Take ``merge`` back; how many conversations went back to the source."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValueError("this merge was undone already")
    target = Contact.objects.get(pk=merge.target_id)
    source = Contact.objects.get(pk=merge.source_id)
    moved_addresses = ContactAddress.objects.filter(pk__in=merge.addresses)
    emails = list(moved_addresses.values_list("email", flat=True))
    ContactAddress.objects.filter(pk__in=merge.addresses, contact=target).update(contact=source)
    # Conversations started since by mail from the moved addresses go back with them.
    since = Message.objects.filter(
        conversation__contact=target, conversation__created_at__gte=merge.created_at,
        direction="in", from_email__in=emails,
    ).values_list("conversation_id", flat=True)  # fmt: skip
    back = set(merge.conversations) | set(since)
    moved = conversation_actions.change_customer(back, before=target.pk, after=source.pk)
    for contact, before in ((target, merge.target_before), (source, merge.source_before)):
        for name in DETAILS:
            setattr(contact, name, before.get(name, ""))
        contact.fields = dict(before.get("fields") or {})
    source.merged_into = None
    target.save()
    source.save()
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at"])
    events.record(
        EventType.CUSTOMER_UNMERGED, actor_id=actor_id, customer=target.pk, merged=source.pk,
        merge=merge.pk, conversations=moved,
    )  # fmt: skip
    return moved


def save_field(
    *,
    actor_id: int | None,
    key: str,
    label: str,
    kind: str,
    choices: list[str] | None = None,
    position: int = 0,
) -> CustomerField:
    """Add the field ``key`` or change its label, kind, choices or place."""
    if kind not in FieldKind.values:
        raise ValueError(kind)
    wanted = [c.strip()[:80] for c in choices or [] if c.strip()] if kind == "choice" else []
    with transaction.atomic():
        field, created = CustomerField.objects.update_or_create(
            key=key,
            defaults={"label": label.strip()[:80], "kind": kind, "choices": wanted[:100],
                      "position": position},
        )  # fmt: skip
        events.record(
            EventType.CUSTOMER_FIELD_SAVED, actor_id=actor_id, field=field.pk, label=field.label,
            change="created" if created else "changed",
        )  # fmt: skip
    return field


def delete_field(field: CustomerField, *, actor_id: int | None) -> None:
    """The field goes; the values customers had stay in ``Contact.fields`` (unshown), so
    adding the field again with the same key brings them back."""
    with transaction.atomic():
        events.record(
            EventType.CUSTOMER_FIELD_DELETED, actor_id=actor_id, field=field.pk, label=field.label
        )
        field.delete()


def update_organization(key: str, *, actor_id: int | None, name: str, notes: str) -> Organization:
    with transaction.atomic():
        org, _ = Organization.objects.update_or_create(
            key=key, defaults={"name": name.strip()[:255], "notes": notes.strip()[:10_000]}
        )
        events.record(EventType.ORGANIZATION_UPDATED, actor_id=actor_id, organization=org.pk,
                      key=key)  # fmt: skip
    return org


class BadPanel(ValueError):
    """A panel setting that cannot be kept: ``code`` ("link", "pattern", "source") and
    ``detail`` (the link's label, the pattern's error)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail[:200]


def save_panel(
    mailbox_id: int,
    *,
    actor_id: int | None,
    links: list[tuple[str, str]],
    order_pattern: str,
    source_url: str,
    source_header: str,
    source_secret: str | None,
    timeout_ms: int,
    cache_seconds: int,
) -> CustomerPanel:
    """A mailbox's links and information source (``source_secret`` None keeps the one
    stored; '' removes it)."""
    for label, url in links:
        if not label.strip() or template_error(url):
            raise BadPanel("link", label or url)
    if order_pattern and (error := pattern_error(order_pattern)):
        raise BadPanel("pattern", error)
    if source_url and template_error(source_url):
        raise BadPanel("source", source_url)
    with transaction.atomic():
        panel, _ = CustomerPanel.objects.get_or_create(mailbox_id=mailbox_id)
        panel.links = [{"label": label.strip()[:80], "url": url.strip()}
                       for label, url in links[:30]]  # fmt: skip
        panel.order_pattern = order_pattern[:200]
        panel.source_url = source_url.strip()[:1000]
        panel.source_header = source_header.strip()[:100]
        if source_secret is not None:
            panel.source_secret = source_secret
        panel.source_timeout_ms = min(max(timeout_ms, 100), 10_000)
        panel.source_cache_seconds = min(max(cache_seconds, 0), 86_400)
        panel.save()
        events.record(
            EventType.CUSTOMER_PANEL_SAVED, mailbox_id=mailbox_id, actor_id=actor_id,
            links=len(panel.links), source=bool(panel.source_url),
            secret=source_secret is not None,
        )  # fmt: skip
    return panel
