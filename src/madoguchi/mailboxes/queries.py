"""Read-only lookups of mailboxes, and who may see which.

Every page, fragment, attachment and action goes through an ``access_*`` query. A missing object
and a forbidden one both raise ``Http404``, so nobody learns which numbers exist in mailboxes
they do not belong to.
"""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet
from django.http import Http404

from madoguchi.accounts.models import Agent, Membership, Role
from madoguchi.accounts.queries import as_agent
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


def visible_mailboxes(who: Agent | AbstractBaseUser | AnonymousUser | None) -> QuerySet[Mailbox]:
    """Admins see every mailbox; everyone else the mailboxes they are a member of.

    ``who`` is the signed-in ``Agent`` (no query for it here). A ``User`` is accepted too, for
    callers that start from one (``notifications``, ``live.hub``): it costs one query for its
    agent unless loaded with ``select_related("agent")``.
    """
    agent = as_agent(who)
    if agent is None:
        return Mailbox.objects.none()
    if agent.role == Role.ADMIN:
        return Mailbox.objects.all()
    return Mailbox.objects.filter(memberships__user_id=agent.user_id)


def access_mailbox(agent: Agent, mailbox_id: int) -> Mailbox:
    """The mailbox ``agent`` may see (one query); 404 when missing or not theirs."""
    mailbox = visible_mailboxes(agent).filter(pk=mailbox_id).first()
    if mailbox is None:
        raise Http404("no such mailbox")
    return mailbox


def assignable_in(mailbox_ids: Collection[int], agent_id: int) -> set[int]:
    """Of ``mailbox_ids``, those whose conversations may be given to agent ``agent_id``.

    The one rule for every way of assigning (the conversation page, bulk changes): an
    active agent who may see the mailbox (a member, or an admin); a deactivated one never.
    ``agent_id`` is the agent's user id, as ``Conversation.assignee_id`` stores it.
    """
    role = (
        Agent.objects.filter(user_id=agent_id, user__is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    if role is None or not mailbox_ids:
        return set()
    if role == Role.ADMIN:
        return set(mailbox_ids)
    return set(
        Membership.objects.filter(user_id=agent_id, mailbox_id__in=mailbox_ids).values_list(
            "mailbox_id", flat=True
        )
    )


def assignable(mailbox: Mailbox, agent_id: int) -> bool:
    """May conversations of ``mailbox`` be assigned to agent ``agent_id`` (``assignable_in``)?"""
    return mailbox.pk in assignable_in({mailbox.pk}, agent_id)


def assignees(mailbox_ids: Collection[int]) -> QuerySet[User]:
    """Everyone ``assignable_in`` some of ``mailbox_ids``, with their agent, by name: the
    choices of the assignee menus."""
    return (
        User.objects.filter(is_active=True, agent__isnull=False)
        .filter(Q(agent__role=Role.ADMIN) | Q(memberships__mailbox_id__in=mailbox_ids))
        .select_related("agent")
        .distinct()
        .order_by("agent__display_name", "username")
    )
