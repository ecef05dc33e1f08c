"""Who must have a reply approved, and who approves it (reads only).

The outbox holds an agent's reply for a manager when the mailbox, or the agent's membership,
says so (``actions._queue``); ``notifications`` asks the reviewers, and the reviewers may take
any reply of the mailbox back (``actions.may_take_back``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q

from madoguchi.accounts.models import Agent, Membership, Role
from madoguchi.mailboxes.models import Mailbox


def needs_approval(mailbox: Mailbox, author: User) -> bool:
    """Agents' replies wait for a manager when the mailbox, or their membership, says so."""
    agent = Agent.objects.filter(user=author).first()
    if agent is None or agent.role != Role.AGENT:
        return False  # managers and admins are the reviewers
    return (
        mailbox.replies_need_approval
        or Membership.objects.filter(mailbox=mailbox, user=author, needs_approval=True).exists()
    )


def reviewers_of(mailbox: Mailbox | int) -> list[int]:
    """Who may approve replies from ``mailbox`` (or its id): its managers, and every admin."""
    return list(
        Agent.objects.filter(user__is_active=True)
        .filter(Q(role=Role.ADMIN) | Q(role=Role.MANAGER, user__memberships__mailbox=mailbox))
        .values_list("user_id", flat=True)
        .distinct()
    )
