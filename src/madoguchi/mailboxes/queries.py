"""Read-only lookups of mailboxes, and who may see which.

Every page, fragment, attachment and action goes through an ``access_*`` query. A missing object
and a forbidden one both raise ``Http404``, so nobody learns which numbers exist in mailboxes
they do not belong to.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from madoguchi.accounts.models import Role
from madoguchi.accounts.queries import agent_of
from madoguchi.mailboxes.models import Mailbox


def mailbox_for_address(address: str) -> Mailbox | None:
    """The mailbox whose shared address is ``address`` (case-insensitive), or None."""
    return Mailbox.objects.filter(address__iexact=address.strip().strip("<>")).first()


def mailbox_by_address(address: str) -> Mailbox:
    """Like ``mailbox_for_address`` but raises ``LookupError`` with a clear message."""
    mailbox = mailbox_for_address(address)
    if mailbox is None:
        raise LookupError(f"no mailbox with the address {address!r} (see `madoguchi mailbox add`)")
    return mailbox


def visible_mailboxes(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Mailbox]:
    """Admins see every mailbox; everyone else the mailboxes they are a member of."""
    agent = agent_of(user)
    if agent is None:
        return Mailbox.objects.none()
    if agent.role == Role.ADMIN:
        return Mailbox.objects.all()
    return Mailbox.objects.filter(memberships__user_id=agent.user_id)


def access_mailbox(user: AbstractBaseUser | AnonymousUser, mailbox_id: int) -> Mailbox:
    mailbox = visible_mailboxes(user).filter(pk=mailbox_id).first()
    if mailbox is None:
        raise Http404("no such mailbox")
    return mailbox
