"""Agent groups (担当グループ) and each mailbox's assignment policy: every write to them.

A group is team-wide (請求, 技術): a name, a strategy and its members. A mailbox's
``AssignmentPolicy`` says how its new conversations are handed out (``automation.assignment``):
by which strategy, among its members or a group's, under which cap, and after how long an
absent agent's customer is handed on (引き継ぎ).

Each change is one event in the caller's transaction: ``group.saved`` (``change``: created,
renamed, strategy, members), ``group.deleted``, and ``automation.settings`` with
``what="assignment"`` for a policy (``change``: the fields that changed, comma-separated).
"""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from madoguchi.automation.models import AssignmentPolicy, Group, GroupMember, Strategy
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.mailboxes.models import Mailbox

#: The longest group name (``Group.name``).
NAME_MAX = 100


class GroupNameTaken(ValueError):
    """Another group has this name (compared without case)."""


def _record(group: Group, change: str, actor_id: int | None) -> None:
    events.record(
        EventType.GROUP_SAVED, actor_id=actor_id, group=group.pk, name=group.name, change=change
    )


def _check_name(name: str, *, other_than: int | None = None) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"a group needs a name of 1 to {NAME_MAX} characters")
    same = Group.objects.filter(name__iexact=name)
    if other_than is not None:
        same = same.exclude(pk=other_than)
    if same.exists():
        raise GroupNameTaken(name)
    return name


def _agents(user_ids: Collection[int]) -> list[int]:
    """Of ``user_ids``, those of agents (a bare Django user is never a member)."""
    found = User.objects.filter(pk__in=list(user_ids), agent__isnull=False)
    return sorted(found.values_list("pk", flat=True))


def create_group(
    name: str,
    *,
    strategy: str = Strategy.ROUND_ROBIN,
    member_ids: Collection[int] = (),
    actor_id: int | None,
) -> Group:
    """A new group; ``GroupNameTaken`` when the name is in use, ``ValueError`` when empty."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                group = Group.objects.create(
                    name=_check_name(name), strategy=Strategy(strategy).value
                )
        except IntegrityError as exc:  # created by someone else a moment ago
            raise GroupNameTaken(name) from exc
        GroupMember.objects.bulk_create(
            [GroupMember(group=group, user_id=uid) for uid in _agents(member_ids)]
        )
        _record(group, "created", actor_id)
    return group


def rename_group(group: Group, name: str, *, actor_id: int | None) -> bool:
    """Whether the name changed; ``GroupNameTaken`` or ``ValueError`` as ``create_group``."""
    with transaction.atomic():
        name = _check_name(name, other_than=group.pk)
        if name == group.name:
            return False
        group.name = name
        try:
            with transaction.atomic():
                group.save(update_fields=["name"])
        except IntegrityError as exc:
            raise GroupNameTaken(name) from exc
        _record(group, "renamed", actor_id)
    return True


def set_strategy(group: Group, strategy: str, *, actor_id: int | None) -> bool:
    """How the group hands out conversations (``Strategy``); whether it changed."""
    chosen = Strategy(strategy).value
    with transaction.atomic():
        if group.strategy == chosen:
            return False
        group.strategy = chosen
        group.save(update_fields=["strategy"])
        _record(group, "strategy", actor_id)
    return True


def add_members(group: Group, user_ids: Collection[int], *, actor_id: int | None) -> int:
    """Add the agents among ``user_ids``; how many were not members yet."""
    with transaction.atomic():
        current = set(group.memberships.values_list("user_id", flat=True))
        new = [uid for uid in _agents(user_ids) if uid not in current]
        GroupMember.objects.bulk_create([GroupMember(group=group, user_id=uid) for uid in new])
        if new:
            _record(group, "members", actor_id)
    return len(new)


def remove_members(group: Group, user_ids: Collection[int], *, actor_id: int | None) -> int:
    """Remove ``user_ids`` from the group; how many were members."""
    with transaction.atomic():
        gone, _ = group.memberships.filter(user_id__in=list(user_ids)).delete()
        if gone:
            _record(group, "members", actor_id)
    return gone


def set_members(group: Group, user_ids: Collection[int], *, actor_id: int | None) -> bool:
    """Make exactly the agents among ``user_ids`` the members (round-robin memory of those
    who stay is kept); whether anything changed. One event for the whole change."""
    with transaction.atomic():
        wanted = set(_agents(user_ids))
        current = set(group.memberships.values_list("user_id", flat=True))
        if wanted == current:
            return False
        group.memberships.filter(user_id__in=current - wanted).delete()
        GroupMember.objects.bulk_create(
            [GroupMember(group=group, user_id=uid) for uid in sorted(wanted - current)]
        )
        _record(group, "members", actor_id)
    return True


def delete_group(group: Group, *, actor_id: int | None) -> None:
    """Delete the group. Mailboxes that handed out through it fall back to their own
    members (``AssignmentPolicy.group`` becomes empty); a rule naming it assigns nobody."""
    with transaction.atomic():
        pk, name = group.pk, group.name
        group.delete()
        events.record(EventType.GROUP_DELETED, actor_id=actor_id, group=pk, name=name)


def policy_of(mailbox: Mailbox) -> AssignmentPolicy:
    """The mailbox's policy; an unsaved one (nobody is assigned) when it has none yet."""
    found = AssignmentPolicy.objects.filter(mailbox=mailbox).first()
    return found or AssignmentPolicy(mailbox=mailbox)


POLICY_FIELDS = ("strategy", "group_id", "max_open", "reoffer_after_minutes")


def save_policy(
    mailbox: Mailbox,
    *,
    strategy: str,
    group_id: int | None,
    max_open: int | None,
    reoffer_after_minutes: int | None,
    actor_id: int | None,
) -> AssignmentPolicy:
    """Set how ``mailbox`` hands out new conversations; one ``automation.settings`` event
    naming the fields that changed (none when nothing did). ``ValueError`` for a group
    that does not exist or a negative number."""
    chosen = Strategy(strategy).value
    if group_id is not None and not Group.objects.filter(pk=group_id).exists():
        raise ValueError(f"no group {group_id}")
    for value in (max_open, reoffer_after_minutes):
        if value is not None and value < 0:
            raise ValueError("caps and times cannot be negative")
    with transaction.atomic():
        policy, _ = AssignmentPolicy.objects.select_for_update().get_or_create(mailbox=mailbox)
        wanted = {"strategy": chosen, "group_id": group_id, "max_open": max_open,
                  "reoffer_after_minutes": reoffer_after_minutes}  # fmt: skip
        changed = [name for name in POLICY_FIELDS if getattr(policy, name) != wanted[name]]
        if changed:
            for name in changed:
                setattr(policy, name, wanted[name])
            policy.save(update_fields=[name.removesuffix("_id") for name in changed])
            events.record(
                EventType.AUTOMATION_SETTINGS,
                mailbox_id=mailbox.pk,
                actor_id=actor_id,
                what="assignment",
                change=",".join(name.removesuffix("_id") for name in changed),
            )
    return policy
