"""Automatic assignment (自動割り当て): who gets a conversation nobody has, and who takes over
from an absent agent (引き継ぎ). docs/automation/assignment.md tells the whole story.

A *pool* is the people one choice is made among: a group's members (``Group``, its
round-robin memory in ``GroupMember.last_assigned_at``) or a mailbox's members (memory in
``AssignmentPolicy.last_assigned``). Of a pool, only the *eligible* may be chosen: active,
assignable for the conversation's mailbox (``mailboxes.queries.assignees``), 対応可能, inside
their working hours (``accounts.availability``) and under their cap of open conversations
(``Agent.max_open``, else the policy's ``max_open``). Nobody eligible: the conversation stays
in 未割り当て (Unassigned).

Strategies (``Strategy``):

- round robin: the member given one least recently goes first (never: first of all), ties
  by user id;
- fewest open: the member with the fewest new/open/held conversations (in every mailbox),
  ties as in round robin;
- sticky: whoever last handled this customer (the assignee of their most recent other
  conversation, or the author of our last reply to them, the more recent first) when
  eligible, else round robin.

Concurrency: a choice is made holding the lock of the policy row and of the group row
(``select_for_update``, in that order), and the open counts and memory are read after taking
it, so two workers on PostgreSQL never both give "the next one" to the same person. The
handover locks each conversation first, then the same rows, in the order intake takes them
(intake writes conversations before assignment runs), so the two never deadlock.

Every assignment is ``conversations.actions.assign_conversation`` with the event's optional
fields: ``reason`` ("auto" or "handover"), ``group`` (its name), ``strategy`` and, from a
rule, ``rule``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from madoguchi.accounts import availability
from madoguchi.accounts.models import Agent
from madoguchi.automation.models import AssignmentPolicy, Group, GroupMember, Strategy
from madoguchi.conversations.actions import assign_conversation, change_status
from madoguchi.conversations.models import Contact, Conversation, Direction, Kind, Message, Status
from madoguchi.core.params import parse_id
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import assignees

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival

#: Conversations that count against a cap and that a handover looks at.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.HOLD)
#: Round-robin stamps of one batch are apart by at least this much (ties never happen).
TICK = timedelta(microseconds=1)

AUTO = "auto"
HANDOVER = "handover"


@dataclass
class Member:
    """One eligible person of a pool, as the choice sees them."""

    user_id: int
    last_given: datetime | None
    open: int
    cap: int | None

    @property
    def full(self) -> bool:
        return self.cap is not None and self.open >= self.cap

    def turn(self) -> tuple[datetime, int]:
        """Round-robin order: least recently given first, then by user id."""
        return (self.last_given or _never(), self.user_id)


def _never() -> datetime:
    """Before anyone was given one: the never-given go first."""
    return datetime(1, 1, 1, tzinfo=UTC)


@dataclass
class Pool:
    """The eligible people of one choice, read under the lock of its policy and group row.

    ``give`` records a choice in memory (so the next choice of the same batch sees it) and
    ``save`` writes the round-robin memory once for the batch.
    """

    mailbox: Mailbox
    policy: AssignmentPolicy | None
    group: Group | None
    members: dict[int, Member]
    #: The newest time anyone of the pool was given one (a new stamp is always later).
    newest: datetime
    now: datetime
    given: dict[int, datetime] = field(default_factory=dict)

    def pick(
        self, strategy: str, owners: Sequence[int] = (), *, without: int | None = None
    ) -> Member | None:
        """The member ``strategy`` chooses (None: nobody eligible, or ``Strategy.OFF``)."""
        free = [m for m in self.members.values() if not m.full and m.user_id != without]
        if strategy == Strategy.OFF or not free:
            return None
        if strategy == Strategy.STICKY:
            by_id = {m.user_id: m for m in free}
            for user_id in owners:
                if user_id in by_id:
                    return by_id[user_id]
        if strategy == Strategy.FEWEST_OPEN:
            return min(free, key=lambda m: (m.open, *m.turn()))
        return min(free, key=Member.turn)

    def give(self, member: Member) -> None:
        stamp = max(self.now, self.newest + TICK)
        member.last_given, member.open = stamp, member.open + 1
        self.newest = stamp
        self.given[member.user_id] = stamp

    def save(self) -> None:
        """Write the round-robin memory of this batch's choices (a few rows, once)."""
        if not self.given:
            return
        if self.group is not None:
            for user_id, stamp in self.given.items():
                GroupMember.objects.filter(group=self.group, user_id=user_id).update(
                    last_assigned_at=stamp
                )
        elif self.policy is not None:
            memory = dict(self.policy.last_assigned or {})
            memory.update({str(uid): stamp.isoformat() for uid, stamp in self.given.items()})
            self.policy.last_assigned = memory
            self.policy.save(update_fields=["last_assigned"])
        self.given = {}


def _parse(stamp: object) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _memory(
    mailbox: Mailbox, policy: AssignmentPolicy | None, group: Group | None
) -> dict[int, datetime | None]:
    """The pool's user ids with when each was last given one (one query)."""
    if group is not None:
        rows = GroupMember.objects.filter(group=group).values_list("user_id", "last_assigned_at")
        return dict(rows)
    memory = (policy.last_assigned or {}) if policy is not None else {}
    members = mailbox.memberships.values_list("user_id", flat=True)
    return {uid: _parse(memory.get(str(uid))) for uid in members}


def open_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """New, open and held conversations assigned to each of ``user_ids``, in every mailbox."""
    rows = (
        Conversation.objects.filter(assignee_id__in=list(user_ids), status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    return dict(rows)


def eligible(mailbox: Mailbox, user_ids: Iterable[int], *, now: datetime) -> dict[int, Agent]:
    """Of ``user_ids``, the agents who may be given a conversation of ``mailbox`` now:
    active and assignable there (``assignees``), 対応可能 and inside their working hours."""
    users = assignees([mailbox.pk]).filter(pk__in=list(user_ids))
    found = {}
    for user in users:
        agent = user.agent
        agent.user = user
        if availability.takes_work(agent, now):
            found[user.pk] = agent
    return found


def _lock_policy(mailbox: Mailbox, *, create: bool) -> AssignmentPolicy | None:
    rows = AssignmentPolicy.objects.select_for_update()
    if create:
        AssignmentPolicy.objects.get_or_create(mailbox=mailbox)
    return rows.filter(mailbox=mailbox).first()


def load_pool(
    mailbox: Mailbox,
    *,
    group_id: int | None,
    now: datetime,
    policy: AssignmentPolicy | None = None,
    lock: bool = True,
) -> Pool | None:
    """The pool of a choice for ``mailbox``, its rows locked (call inside a transaction).

    ``group_id`` None: the mailbox's members (its policy row, made if missing, keeps the
    memory); a group that no longer exists: None. ``policy``: already locked by the caller.
    ``lock`` False: a look without locks or writes (the settings page's "next in turn").
    """
    if policy is None and lock:
        policy = _lock_policy(mailbox, create=group_id is None)
    group = None
    if group_id is not None:
        groups = Group.objects.select_for_update() if lock else Group.objects.all()
        group = groups.filter(pk=group_id).first()
        if group is None:
            return None
    memory = _memory(mailbox, policy, group)
    agents = eligible(mailbox, memory, now=now)
    counts = open_counts(agents)
    default_cap = policy.max_open if policy is not None else None
    members = {
        uid: Member(
            uid,
            memory[uid],
            counts.get(uid, 0),
            agent.max_open if agent.max_open is not None else default_cap,
        )
        for uid, agent in agents.items()
    }
    stamps = [stamp for stamp in memory.values() if stamp is not None]
    return Pool(mailbox, policy, group, members, max(stamps, default=now), now)


def last_handlers(
    contact_ids: Iterable[int], *, other_than: Iterable[int] = ()
) -> dict[int, list[int]]:
    """Who last handled each customer, most recent first (one query): the assignee of their
    most recent conversation other than ``other_than``, and the author of our last reply."""
    others = Conversation.objects.filter(contact_id=OuterRef("pk"), assignee__isnull=False)
    others = others.exclude(pk__in=list(other_than)).order_by("-last_activity_at", "-pk")
    replies = Message.objects.filter(
        conversation__contact_id=OuterRef("pk"), direction=Direction.OUT, author__isnull=False
    ).order_by("-received_at", "-pk")
    rows = (
        Contact.objects.filter(pk__in=list(contact_ids))
        .annotate(
            owner=Subquery(others.values("assignee_id")[:1]),
            owner_at=Subquery(others.values("last_activity_at")[:1]),
            replier=Subquery(replies.values("author_id")[:1]),
            replied_at=Subquery(replies.values("received_at")[:1]),
        )
        .values_list("pk", "owner", "owner_at", "replier", "replied_at")
    )
    found: dict[int, list[int]] = {}
    for pk, owner, owner_at, replier, replied_at in rows:
        # Our reply first at the same instant: it is the later act in its conversation.
        pairs = [(at, uid) for uid, at in ((replier, replied_at), (owner, owner_at)) if uid]
        pairs.sort(key=lambda pair: pair[0] or _never(), reverse=True)
        found[pk] = list(dict.fromkeys(uid for _, uid in pairs))
    return found


def _owners_of(conv: Conversation) -> list[int]:
    """Who last handled the customer of ``conv`` (``last_handlers``), for sticky."""
    if conv.contact_id is None:
        return []
    return last_handlers([conv.contact_id], other_than=[conv.pk]).get(conv.contact_id, [])


def _give(
    pool: Pool,
    conv: Conversation,
    member: Member | None,
    *,
    strategy: str,
    reason: str | None = None,
    rule: str | None = None,
) -> None:
    """Assign ``conv`` to ``member``; None (a handover found nobody): unassign it, back to
    新着 so it waits in Unassigned like a new arrival."""
    if member is not None:
        pool.give(member)
    assign_conversation(
        conv,
        assignee_id=member.user_id if member else None,
        actor_id=None,
        rule=rule,
        group=pool.group.name if pool.group is not None else None,
        strategy=strategy,
        reason=reason,
    )
    if member is None and conv.status in (Status.OPEN, Status.HOLD):
        change_status(conv, Status.NEW, actor_id=None)


@dataclass(frozen=True)
class Standing:
    """One person of a mailbox's pool as its settings page shows them."""

    agent: Agent
    #: May be given a conversation of the mailbox (active, a member or an admin).
    assignable: bool
    working: bool
    open: int
    cap: int | None

    @property
    def full(self) -> bool:
        return self.cap is not None and self.open >= self.cap

    @property
    def eligible(self) -> bool:
        return self.assignable and self.agent.available and self.working and not self.full


def roster(mailbox: Mailbox, policy: AssignmentPolicy, now: datetime) -> list[Standing]:
    """Everyone of the policy's pool (its group's members, or the mailbox's), each with
    what decides whether they get work now, by name (a few queries, no locks)."""
    group = Group.objects.filter(pk=policy.group_id).first() if policy.group_id else None
    user_ids = list(_memory(mailbox, policy if policy.pk else None, group))
    agents = Agent.objects.select_related("user").filter(user_id__in=user_ids)
    allowed = set(assignees([mailbox.pk]).filter(pk__in=user_ids).values_list("pk", flat=True))
    counts = open_counts(user_ids)
    rows = [
        Standing(
            agent,
            agent.user_id in allowed,
            availability.working(agent, now),
            counts.get(agent.user_id, 0),
            agent.max_open if agent.max_open is not None else policy.max_open,
        )
        for agent in agents
    ]
    return sorted(rows, key=lambda row: (row.agent.name, row.agent.user_id))


def next_in_turn(mailbox: Mailbox, policy: AssignmentPolicy, now: datetime) -> int | None:
    """Who a new customer's conversation would go to now (no locks, nothing written)."""
    if policy.strategy == Strategy.OFF:
        return None
    pool = load_pool(
        mailbox, group_id=policy.group_id, now=now, policy=policy if policy.pk else None,
        lock=False,
    )  # fmt: skip
    member = pool.pick(policy.strategy) if pool is not None else None
    return member.user_id if member is not None else None


def assign_new(arrivals: list[Arrival]) -> None:
    """New conversations still without an assignee (after the rules), by their mailbox's
    policy; a policy that is off (or none) assigns nothing. A fixed number of queries per
    mailbox of the batch, plus the assignment itself of each conversation given."""
    waiting: dict[int, list[Conversation]] = defaultdict(list)
    for arrival in arrivals:
        conv = arrival.conversation
        if arrival.new_conversation and conv.assignee_id is None and conv.kind == Kind.NORMAL:
            waiting[conv.mailbox_id].append(conv)
    if not waiting:
        return
    with transaction.atomic():
        policies = (
            AssignmentPolicy.objects.select_for_update()
            .filter(mailbox_id__in=list(waiting))
            .exclude(strategy=Strategy.OFF)
            .order_by("mailbox_id")
        )
        for policy in policies:
            _assign_batch(policy, waiting[policy.mailbox_id])


def _assign_batch(policy: AssignmentPolicy, convs: list[Conversation]) -> None:
    still = set(
        Conversation.objects.filter(
            pk__in=[c.pk for c in convs],
            assignee__isnull=True,
            status__in=OPEN_STATUSES,
            kind=Kind.NORMAL,
        ).values_list("pk", flat=True)
    )
    convs = [c for c in convs if c.pk in still]
    if not convs:
        return
    now = timezone.now()
    pool = load_pool(convs[0].mailbox, group_id=policy.group_id, now=now, policy=policy)
    if pool is None:  # the group is gone: the mailbox's own members
        pool = load_pool(convs[0].mailbox, group_id=None, now=now, policy=policy)
    assert pool is not None
    owners: dict[int, list[int]] = {}
    if policy.strategy == Strategy.STICKY:
        contacts = {c.contact_id for c in convs if c.contact_id is not None}
        owners = last_handlers(contacts, other_than=[c.pk for c in convs])
    for conv in convs:
        mine = owners.get(conv.contact_id, []) if conv.contact_id is not None else []
        member = pool.pick(policy.strategy, mine)
        if member is None:
            continue  # nobody eligible: it waits in Unassigned
        _give(pool, conv, member, strategy=policy.strategy, reason=AUTO)
        if conv.contact_id is not None:  # the same customer's next one of the batch
            owners[conv.contact_id] = [member.user_id, *mine]
    pool.save()


def assign_by(
    conv: Conversation, *, group_id: int | None, strategy: str, rule: str | None = None
) -> int | None:
    """Assign ``conv`` to a member of ``group_id`` (None: of its mailbox) chosen by
    ``strategy``; the user id given it, or None (it waits in Unassigned).

    A strategy that is none of ``Strategy`` (a rule that left it empty) is the group's own
    (round robin among the mailbox's members); a group id that names no group assigns
    nobody."""
    if strategy == Strategy.OFF:
        return None
    group_id = _as_id(group_id)
    if group_id is False:
        return None
    with transaction.atomic():
        mailbox = conv.mailbox
        policy = _lock_policy(mailbox, create=group_id is None)
        pool = load_pool(mailbox, group_id=group_id, now=timezone.now(), policy=policy)
        if pool is None:
            return None
        if strategy not in Strategy.values:
            strategy = pool.group.strategy if pool.group is not None else Strategy.ROUND_ROBIN
        member = pool.pick(strategy, _owners_of(conv) if strategy == Strategy.STICKY else [])
        if member is None:
            return None
        _give(pool, conv, member, strategy=strategy, reason=None if rule else AUTO, rule=rule)
        pool.save()
        return member.user_id


def _as_id(value: object) -> int | None | Literal[False]:
    """A group id as a rule stored it: an id, None (the mailbox), or False (not an id)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return False
    return parse_id(str(value)) or False


def _due(policy: AssignmentPolicy, now: datetime) -> list[int]:
    """Conversations of the policy's mailbox to hand on (no locks: candidates, each checked
    again under its lock by ``_hand_over``)."""
    assert policy.reoffer_after_minutes is not None
    limit = now - timedelta(minutes=policy.reoffer_after_minutes)
    rows = list(
        Conversation.objects.filter(
            mailbox_id=policy.mailbox_id,
            assignee__isnull=False,
            status__in=OPEN_STATUSES,
            waiting_since__lte=limit,
        ).values_list("pk", "assignee_id", "waiting_since")
    )
    agents = {
        a.user_id: a
        for a in Agent.objects.select_related("user").filter(
            user_id__in={uid for _, uid, _ in rows}
        )
    }
    return [
        pk
        for pk, uid, since in rows
        if since is not None and _wrote_while_away(pk, agents.get(uid), since, now, limit)
    ]


def _wrote_while_away(
    conv_id: int, agent: Agent | None, waiting_since: datetime, now: datetime, limit: datetime
) -> bool:
    """Did the customer write after the assignee went away, and before ``limit`` (so they
    have waited the policy's time since)? A user who is no agent never answers."""
    went = availability.EVER if agent is None else availability.away_from(agent, now)
    if went is None:
        return False
    return Message.objects.filter(
        conversation_id=conv_id,
        direction=Direction.IN,
        received_at__gte=max(went, waiting_since),
        received_at__lte=limit,
    ).exists()


def _hand_over(conv_id: int, now: datetime) -> bool:
    """Hand one conversation on, if it is still due (checked again under its lock)."""
    with transaction.atomic():
        conv = (  # the conversation's row only: intake locks the mailbox row before it
            Conversation.objects.select_for_update(of=("self",))
            .select_related("mailbox")
            .filter(pk=conv_id, status__in=OPEN_STATUSES, assignee__isnull=False)
            .first()
        )
        if conv is None or conv.waiting_since is None or conv.assignee_id is None:
            return False
        policy = _lock_policy(conv.mailbox, create=False)
        if policy is None or policy.reoffer_after_minutes is None:
            return False
        limit = now - timedelta(minutes=policy.reoffer_after_minutes)
        agent = Agent.objects.select_related("user").filter(user_id=conv.assignee_id).first()
        if not _wrote_while_away(conv.pk, agent, conv.waiting_since, now, limit):
            return False
        pool = load_pool(conv.mailbox, group_id=policy.group_id, now=now, policy=policy)
        if pool is None:
            pool = load_pool(conv.mailbox, group_id=None, now=now, policy=policy)
        assert pool is not None
        owners = _owners_of(conv) if policy.strategy == Strategy.STICKY else []
        member = pool.pick(policy.strategy, owners, without=conv.assignee_id)
        _give(pool, conv, member, strategy=policy.strategy, reason=HANDOVER)
        pool.save()
    return True


def reoffer_due(now: datetime) -> int:
    """Hand on the conversations of absent assignees whose customers wrote again longer
    ago than their mailbox's ``reoffer_after_minutes`` (引き継ぎ). How many."""
    policies = AssignmentPolicy.objects.filter(reoffer_after_minutes__isnull=False)
    done = 0
    for policy in policies.order_by("mailbox_id"):
        for conv_id in _due(policy, now):
            done += _hand_over(conv_id, now)
    return done
