"""Every write to a mailbox's SLA targets and acknowledgement settings.

The caller checked that the actor may manage the mailbox's automation (a manager of it, or
an admin). Each save records one ``automation.settings`` event (``what`` "sla" or
"auto_reply", ``change`` naming what changed, never a text) and an audit entry. New
targets apply to conversations that start afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from madoguchi.accounts import audit
from madoguchi.accounts.models import AuditAction
from madoguchi.automation.models import AutoReply, SlaTarget
from madoguchi.automation.sla import Targets
from madoguchi.conversations.models import Tag
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.mailboxes.models import Mailbox
from madoguchi.reply_templates.queries import usable

#: The longest target (a year of business minutes is far more than anyone means).
MAX_MINUTES = 366 * 24 * 60
#: The longest quiet time between two automatic replies to one sender (a month).
MAX_QUIET_HOURS = 31 * 24


def sla_targets(mailbox: Mailbox) -> tuple[Targets, dict[int, Targets]]:
    """The mailbox's own targets and each tag's: {tag id: targets}."""
    own, tags = Targets(), {}
    for row in SlaTarget.objects.filter(mailbox=mailbox):
        targets = Targets(row.first_response_minutes, row.resolution_minutes)
        if row.tag_id is None:
            own = targets
        else:
            tags[row.tag_id] = targets
    return own, tags


def save_sla(
    mailbox: Mailbox, *, own: Targets, tags: Mapping[int, Targets], actor_id: int | None
) -> list[str]:
    """Replace the mailbox's targets; a tag (or the mailbox) without any target keeps no row.
    What changed ("mailbox", tag names); ``ValidationError`` for a bad value or tag."""
    _check(own, "mailbox")
    for tag_id, targets in tags.items():
        _check(targets, f"tag {tag_id}")
    names = dict(Tag.objects.filter(pk__in=list(tags)).values_list("pk", "name"))
    if missing := set(tags) - set(names):
        raise ValidationError({"tag": f"no such tag: {sorted(missing)}"})
    before_own, before_tags = sla_targets(mailbox)
    wanted = _kept(own, tags)
    before = _kept(before_own, before_tags)
    if wanted == before:
        return []
    changed = sorted(
        "mailbox" if key is None else names.get(key, str(key))
        for key in set(wanted) | set(before)
        if wanted.get(key) != before.get(key)
    )
    with transaction.atomic():
        SlaTarget.objects.filter(mailbox=mailbox).delete()
        SlaTarget.objects.bulk_create(
            SlaTarget(mailbox=mailbox, tag_id=key, first_response_minutes=t.first_response,
                      resolution_minutes=t.resolution)
            for key, t in wanted.items()
        )  # fmt: skip
        _record(mailbox, "sla", changed, actor_id=actor_id)
    return changed


def _kept(own: Targets, tags: Mapping[int, Targets]) -> dict[int | None, Targets]:
    """The rows to keep: {None: the mailbox's, tag id: the tag's}, each with a target."""
    rows: dict[int | None, Targets] = {None: own}
    for tag_id, targets in tags.items():
        rows[tag_id] = targets
    return {key: value for key, value in rows.items() if value.any}


def _check(targets: Targets, what: str) -> None:
    for value in (targets.first_response, targets.resolution):
        if value is not None and not 0 < value <= MAX_MINUTES:
            raise ValidationError({"sla": f"{what}: a target is 1 minute to a year"})


def auto_reply_of(mailbox: Mailbox) -> AutoReply:
    """The mailbox's acknowledgement settings (unsaved defaults: off, when never set)."""
    return AutoReply.objects.filter(mailbox=mailbox).first() or AutoReply(mailbox=mailbox)


def save_auto_reply(
    mailbox: Mailbox,
    *,
    enabled: bool,
    template_id: int | None,
    only_outside_hours: bool,
    quiet_hours: int,
    actor_id: int | None,
) -> list[str]:
    """Store the acknowledgement settings; the fields changed. ``ValidationError`` for a
    template the mailbox may not use, none while on, or a quiet time out of range."""
    errors = {}
    if template_id is not None and not usable(mailbox.pk).filter(pk=template_id).exists():
        errors["template"] = "not a template this mailbox may use"
    elif enabled and template_id is None:
        errors["template"] = "choose the template to reply with"
    if not 0 <= quiet_hours <= MAX_QUIET_HOURS:
        errors["quiet_hours"] = f"0 to {MAX_QUIET_HOURS} hours"
    if errors:
        raise ValidationError(errors)
    setting = auto_reply_of(mailbox)
    values = {
        "enabled": enabled,
        "template_id": template_id,
        "only_outside_hours": only_outside_hours,
        "quiet_hours": quiet_hours,
    }
    changed = sorted(k for k, v in values.items() if getattr(setting, k) != v)
    if not changed and setting.pk is not None:
        return []
    with transaction.atomic():
        AutoReply.objects.update_or_create(mailbox=mailbox, defaults=values)
        _record(mailbox, "auto_reply", changed, actor_id=actor_id)
    return changed


def _record(mailbox: Mailbox, what: str, change: list[str], *, actor_id: int | None) -> None:
    events.record(
        EventType.AUTOMATION_SETTINGS,
        mailbox_id=mailbox.pk,
        actor_id=actor_id,
        what=what,
        change=change,
    )
    audit.record(AuditAction.MAILBOX_SETTINGS, actor=actor_id, target=mailbox.address,
                 fields=[f"{what}: {c}" for c in change] or [what])  # fmt: skip
