"""Who may see which customer, the customer list, one customer's history.

An agent sees a customer who wrote to (or was written from) a mailbox they see, and a
customer with no conversation at all (added by hand or by an import); admins see every
customer. A merged customer is shown by the one it was merged into. The history lists
only conversations in mailboxes the agent sees: another mailbox's conversation with the
same customer stays hidden, as on the conversation page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from madoguchi.accounts.models import Agent, Role
from madoguchi.conversations.models import Contact, ContactAddress, Conversation, Status
from madoguchi.customers.models import CustomerField, CustomerMerge, Organization
from madoguchi.mailboxes.queries import visible_mailboxes

PAGE = 50
HISTORY_PAGE = 30


def visible_customers(agent: Agent) -> QuerySet[Contact]:
    rows = Contact.objects.filter(merged_into__isnull=True)
    if agent.role == Role.ADMIN:
        return rows
    seen = Conversation.objects.filter(
        contact_id=OuterRef("pk"), mailbox__in=visible_mailboxes(agent)
    )
    any_conversation = Conversation.objects.filter(contact_id=OuterRef("pk"))
    return rows.filter(Q(Exists(seen)) | ~Q(Exists(any_conversation)))


def access_customer(agent: Agent, pk: int) -> Contact:
    """The customer ``agent`` may see; a merged one's target; 404 otherwise."""
    contact = Contact.objects.filter(pk=pk).first()
    hops = 0
    while contact is not None and contact.merged_into_id is not None and hops < 20:
        contact = Contact.objects.filter(pk=contact.merged_into_id).first()
        hops += 1
    if contact is None or not visible_customers(agent).filter(pk=contact.pk).exists():
        raise Http404("no such customer")
    return contact


@dataclass(frozen=True)
class Filters:
    q: str = ""
    organization: str = ""
    #: Only customers with a conversation that is not done yet.
    open_only: bool = False
    field: str = ""
    value: str = ""


def customer_list(
    agent: Agent, filters: Filters, *, before: int | None = None
) -> tuple[list[Contact], int | None]:
    """A page of customers, newest first, and where the next page starts (None: last)."""
    rows = visible_customers(agent)
    q = filters.q.strip()
    if q:
        by_address = ContactAddress.objects.filter(
            contact_id=OuterRef("pk"), email__icontains=q.lower()
        )
        rows = rows.filter(
            Q(name__icontains=q)
            | Q(company__icontains=q)
            | Q(organization__icontains=q)
            | Q(phone__icontains=q)
            | Q(Exists(by_address))
        )
    if filters.organization:
        rows = rows.filter(organization=filters.organization)
    if filters.open_only:
        unfinished = Conversation.objects.filter(
            contact_id=OuterRef("pk"), status__in=[Status.NEW, Status.OPEN, Status.HOLD]
        )
        if agent.role != Role.ADMIN:
            unfinished = unfinished.filter(mailbox__in=visible_mailboxes(agent))
        rows = rows.filter(Exists(unfinished))
    if filters.field and filters.value:
        rows = rows.filter(**{f"fields__{filters.field}": filters.value})
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows.prefetch_related("addresses").order_by("-pk")[: PAGE + 1])
    if len(page) > PAGE:
        return page[:PAGE], page[PAGE - 1].pk
    return page, None


def history(
    agent: Agent, contact: Contact, *, before: int | None = None
) -> tuple[list[Conversation], int | None]:
    """The customer's conversations in the agent's mailboxes, newest activity first."""
    rows = (
        Conversation.objects.filter(contact=contact, mailbox__in=visible_mailboxes(agent))
        .select_related("mailbox", "assignee__agent")
        .order_by("-pk")
    )
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows[: HISTORY_PAGE + 1])
    if len(page) > HISTORY_PAGE:
        return page[:HISTORY_PAGE], page[HISTORY_PAGE - 1].pk
    return page, None


def organization_of(contact: Contact) -> Organization | None:
    return organization_named(contact.organization) if contact.organization else None


def organization_named(key: str) -> Organization | None:
    return Organization.objects.filter(key=key).first()


def organization_names(keys: list[str]) -> dict[str, str]:
    """The names people gave these organizations (one query)."""
    wanted = {k for k in keys if k}
    if not wanted:
        return {}
    rows = Organization.objects.filter(key__in=wanted).exclude(name="")
    return dict(rows.values_list("key", "name"))


def organization_members(agent: Agent, key: str) -> list[Contact]:
    return list(
        visible_customers(agent)
        .filter(organization=key)
        .prefetch_related("addresses")
        .order_by("name", "pk")[:200]
    )


def undoable_merges(contact: Contact) -> list[CustomerMerge]:
    """Merges into ``contact`` that can still be taken back, newest first."""
    return list(
        CustomerMerge.objects.filter(target=contact, undone_at__isnull=True)
        .select_related("source", "actor")
        .order_by("-pk")[:20]
    )


def fields() -> list[CustomerField]:
    return list(CustomerField.objects.all())


def may_define_fields(agent: Agent) -> bool:
    return agent.role in (Role.ADMIN, Role.MANAGER)
