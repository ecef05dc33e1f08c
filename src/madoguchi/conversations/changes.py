"""Status, owner and tag changes to many conversations, gathered and written together.

Automation changes a whole ingest batch at once: its rules tag, set statuses and assign
hundreds of conversations in one transaction. Done one action call at a time that cost
~3.7 ms a change (a transaction, a few queries and an event insert with its observers each).
``Changes`` keeps the same rules but writes once: each change updates the ``Conversation``
object at once (the next rule sees it) and keeps its event in order; ``save`` writes one
UPDATE per set of changed fields, the tags in three queries and the events in one insert,
calling each observer once.

The one-conversation actions of ``conversations.actions`` (``change_status``,
``assign_conversation``, ``tag_conversation``, ``untag_conversation``) are a ``Changes``
with one change, so both paths decide alike. ``mark`` and ``undo`` take back what was
gathered since a mark (a rule that failed half-way).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from madoguchi.accounts.models import Agent
from madoguchi.conversations.models import Conversation, Status, Tag
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event


@dataclass
class _TagChange:
    """A tag to put on (``add``) or take off a conversation; its event is built by ``save``
    once the tag is known, and only if the conversation's tags really change."""

    conv: Conversation
    name: str
    add: bool
    actor_id: int | None
    rule: str | None
    tag: Tag | None = None


def tag_key(name: str) -> str:
    """A tag's name as ``Tag`` lookups compare it (``iexact``: ASCII case only)."""
    return name.lower() if name.isascii() else name


@dataclass(frozen=True)
class Mark:
    """Where ``Changes`` stood (see ``Changes.mark``)."""

    steps: int
    undo: int


class Changes:
    """Changes to conversations, kept in memory until ``save``."""

    def __init__(self) -> None:
        self._steps: list[Event | _TagChange] = []
        self._dirty: dict[int, tuple[Conversation, set[str]]] = {}
        self._undo: list[tuple[Conversation, str, Any]] = []
        self._names: dict[int, str] = {}
        self._now = timezone.now()
        #: The tags ``save`` put on or took off, by ``tag_key``.
        self.tags: dict[str, Tag] = {}

    def __bool__(self) -> bool:
        return bool(self._steps or self._dirty)

    def mark(self) -> Mark:
        return Mark(len(self._steps), len(self._undo))

    def undo(self, mark: Mark) -> None:
        """Forget the changes made since ``mark`` and restore the conversations' fields."""
        del self._steps[mark.steps :]
        while len(self._undo) > mark.undo:
            conv, name, value = self._undo.pop()
            setattr(conv, name, value)

    def status(
        self,
        conv: Conversation,
        status: Status,
        *,
        actor_id: int | None,
        reason: str = "",
        rule: str | None = None,
    ) -> bool:
        """Set ``conv``'s status (done: closed now); whether it changed."""
        if conv.status == status:
            return False
        self._event(
            EventType.CONVERSATION_STATUS, conv, actor_id,
            before=conv.status, after=status, reason=reason, **({"rule": rule} if rule else {}),
        )  # fmt: skip
        self._set(conv, status=status, closed_at=self._now if status == Status.DONE else None)
        return True

    def assign(
        self,
        conv: Conversation,
        assignee_id: int | None,
        *,
        actor_id: int | None,
        **how: str,
    ) -> bool:
        """Give ``conv`` to ``assignee_id`` (None: nobody); whether it changed. Claiming a
        new conversation moves it to in progress (PRODUCT.md). ``how`` says how automation
        chose (``rule``, ``group``, ``strategy``, ``reason``) for the timeline."""
        before = conv.assignee_id
        if before == assignee_id:
            return False
        self._event(
            EventType.CONVERSATION_ASSIGNED, conv, actor_id,
            before=before, after=assignee_id, after_name=self._name(assignee_id), **how,
        )  # fmt: skip
        self._set(conv, assignee_id=assignee_id)
        if assignee_id is not None and conv.status == Status.NEW:
            rule = how.get("rule")
            self.status(conv, Status.OPEN, actor_id=actor_id, reason="claimed", rule=rule)
        return True

    def tag(
        self, conv: Conversation, name: str, *, actor_id: int | None, rule: str | None = None
    ) -> None:
        """Put the tag ``name`` on ``conv`` (made on first use; nothing if it has it)."""
        self._steps.append(_TagChange(conv, name.strip(), True, actor_id, rule))

    def untag(
        self, conv: Conversation, name: str, *, actor_id: int | None, rule: str | None = None
    ) -> None:
        """Take the tag ``name`` off ``conv`` (nothing if it does not have it)."""
        self._steps.append(_TagChange(conv, name.strip(), False, actor_id, rule))

    def save(self) -> list[Event]:
        """Write what was gathered; the events written (their observers have run)."""
        steps, dirty = self._steps, self._dirty
        self._steps, self._dirty, self._undo = [], {}, []
        if not steps and not dirty:
            return []
        with transaction.atomic():
            changes = [s for s in steps if isinstance(s, _TagChange)]
            done = self._write_tags(changes) if changes else set()
            self._write_fields(list(dirty.values()))
            written = [
                s if isinstance(s, Event) else self._tag_event(s)
                for s in steps
                if isinstance(s, Event) or id(s) in done
            ]
            events.record_many(written)
        return written

    # -- inside

    def _set(self, conv: Conversation, **values: Any) -> None:
        _, fields = self._dirty.setdefault(conv.pk, (conv, set()))
        for name, value in values.items():
            self._undo.append((conv, name, getattr(conv, name)))
            setattr(conv, name, value)
            fields.add(name)  # attribute names: ``update`` takes ``assignee_id`` as is

    def _event(
        self, kind: EventType, conv: Conversation, actor_id: int | None, **data: Any
    ) -> None:
        self._steps.append(
            events.build(
                kind,
                mailbox_id=conv.mailbox_id,
                conversation_id=conv.pk,
                actor_id=actor_id,
                **data,
            )
        )

    def _name(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._names:
            agent = Agent.objects.filter(user_id=user_id).select_related("user").first()
            self._names[user_id] = agent.name if agent else ""
        return self._names[user_id]

    def _write_fields(self, dirty: list[tuple[Conversation, set[str]]]) -> None:
        """One UPDATE per set of values written (a batch's rules set few distinct ones:
        done, or sato and in progress...). Faster than ``bulk_update``'s CASE per row."""
        groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        for conv, fields in dirty:
            values = tuple(sorted((f, getattr(conv, f)) for f in fields))
            groups.setdefault(values, []).append(conv.pk)
        for values, ids in groups.items():
            Conversation.objects.filter(pk__in=ids).update(**dict(values))

    def _resolve(self, changes: list[_TagChange]) -> dict[str, Tag]:
        """The tags by ``tag_key`` (one query), made where a change puts one on (a query
        each); a name only taken off and unknown has no tag."""
        names = {c.name for c in changes}
        found = list(Tag.objects.filter(reduce(or_, (Q(name__iexact=n) for n in names))))
        tags: dict[str, Tag] = {}
        for name in sorted(names):
            exact = [t for t in found if t.name == name]
            alike = [t for t in found if tag_key(t.name) == tag_key(name)]
            tag = next(iter(exact or alike), None)
            if tag is None and any(c.add and c.name == name for c in changes):
                tag = Tag.objects.create(name=name)
                found.append(tag)
            if tag is not None:
                tags.setdefault(tag_key(name), tag)
        return tags

    def _write_tags(self, changes: list[_TagChange]) -> set[int]:
        """Apply the tag changes in order, in a few queries; the ids of those that did
        something (a tag already on, or already off, does nothing)."""
        self.tags.update(self._resolve(changes))
        changes = [c for c in changes if tag_key(c.name) in self.tags]
        through = Conversation.tags.through
        conv_ids = {c.conv.pk for c in changes}
        tag_ids = {self.tags[tag_key(c.name)].pk for c in changes}
        had = set(
            through.objects.filter(conversation_id__in=conv_ids, tag_id__in=tag_ids).values_list(
                "conversation_id", "tag_id"
            )
        )
        has, done = set(had), set()
        for change in changes:
            change.tag = self.tags[tag_key(change.name)]
            pair = (change.conv.pk, change.tag.pk)
            if change.add != (pair in has):
                (has.add if change.add else has.discard)(pair)
                done.add(id(change))
        through.objects.bulk_create(
            [through(conversation_id=c, tag_id=t) for c, t in sorted(has - had)],
            ignore_conflicts=True,
        )
        removed: dict[int, list[int]] = {}
        for conv_id, tag_id in had - has:
            removed.setdefault(tag_id, []).append(conv_id)
        for tag_id, ids in removed.items():
            through.objects.filter(tag_id=tag_id, conversation_id__in=ids).delete()
        return done

    @staticmethod
    def _tag_event(change: _TagChange) -> Event:
        assert change.tag is not None
        return events.build(
            EventType.CONVERSATION_TAGGED if change.add else EventType.CONVERSATION_UNTAGGED,
            mailbox_id=change.conv.mailbox_id,
            conversation_id=change.conv.pk,
            actor_id=change.actor_id,
            tag=change.tag.name,
            **({"rule": change.rule} if change.rule else {}),
        )
