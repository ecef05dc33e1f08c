"""Acknowledgements (受付自動返信) and rules' template replies: mail nobody wrote.

``acknowledge`` answers the batch's new conversations from the mailbox's template
(``AutoReply``), optionally only outside business hours; a rule's "reply with a template"
comes through ``reply_with_template``. Both go through the same guards, the rules of
RFC 3834 for automatic responses, and through the durable outbox
(``mail_out.actions.queue_automatic``): the reply is in the thread (In-Reply-To,
References), says ``Auto-Submitted: auto-replied``, has no author, and is neither our
first response (SLA) nor a reason to assign the conversation.

Never answered, each with the reason recorded as ``auto_reply.skipped`` in the
conversation's timeline (``SKIP_REASONS``): automated mail (auto-replies, bulk mail,
bounces: ``Message.kind``, and ``Auto-Submitted`` even from a sender the team lists as a
person), mail whose reply would go to one of our own mailboxes or to a no-reply address,
a sender we answered automatically within the mailbox's ``quiet_hours`` (so two
auto-responders stop after one reply each, even if one ignores RFC 3834), a conversation
a rule already answered or closed, and, with ``only_outside_hours``, mail that came while
the mailbox was open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.automation.models import AutoReply
from madoguchi.conversations.models import Conversation, Direction, Kind, Message, Status
from madoguchi.core import events
from madoguchi.core.business_time import BusinessCalendar
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mail import Address, classify
from madoguchi.mail.header_values import UnsafeAddress
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out import outgoing
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import Mailbox
from madoguchi.reply_templates import variables
from madoguchi.reply_templates.actions import count_use
from madoguchi.reply_templates.models import Template
from madoguchi.reply_templates.queries import chosen_attachments, files_of, usable

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival

#: Why no automatic reply went (the ``reason`` of ``auto_reply.skipped``).
SKIP_REASONS = {
    "no_template": _("no template is chosen for the acknowledgement"),
    "automated": _("the mail was sent automatically (auto-reply, bulk mail or bounce)"),
    "no_address": _("the mail names no address to reply to"),
    "own_address": _("the reply would go to one of our own mailboxes"),
    "no_reply_address": _("the sender's address takes no replies (no-reply, mailer-daemon)"),
    "closed": _("a rule closed the conversation (done, spam or trash)"),
    "answered": _("a rule already replied"),
    "in_hours": _("it arrived during business hours"),
    "quiet": _("this sender got an automatic reply a short while ago"),
    "bad_address": _("the address to reply to cannot be written into a mail"),
}
#: The quiet time of a mailbox without acknowledgement settings (a rule's reply).
DEFAULT_QUIET_HOURS = 24
_NO_REPLY = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?)([+._-].*)?$"
    r"|^owner-|-request$|-bounces?$",
    re.IGNORECASE,
)
_CLOSED = (Status.DONE, Status.SPAM, Status.TRASH)


def acknowledge(arrivals: list[Arrival]) -> None:
    """Send the mailbox's acknowledgement to the batch's new conversations (RFC 3834).

    One query when no mailbox of the batch acknowledges (the usual case)."""
    new = [a for a in arrivals if a.new_conversation]
    if not new:
        return
    settings = {
        s.mailbox_id: s
        for s in AutoReply.objects.filter(
            mailbox_id__in={a.conversation.mailbox_id for a in new}, enabled=True
        ).select_related("template")
    }
    new = [a for a in new if a.conversation.mailbox_id in settings]
    if not new:
        return
    guard = Guard([a.conversation for a in new])
    skipped: list[Event] = []
    for arrival in new:
        conv, message = arrival.conversation, arrival.message
        setting = settings[conv.mailbox_id]
        reason = _why_not(guard, setting, conv, message)
        if reason is None and setting.template is not None:
            reason = _send(conv, message, setting.template, rule="")
        if reason is not None:
            skipped.append(_skip(conv, reason))
        else:
            arrival.did.append("acknowledged")
    events.record_many(skipped)


def _why_not(guard: Guard, setting: AutoReply, conv: Conversation, message: Message) -> str | None:
    if setting.template is None or not _usable(setting.template, conv.mailbox_id):
        return "no_template"
    if reason := guard.refuses(conv, message, quiet_hours=setting.quiet_hours):
        return reason
    if setting.only_outside_hours and guard.calendar(conv.mailbox).is_open(message.received_at):
        return "in_hours"
    return None


def _usable(template: Template, mailbox_id: int) -> bool:
    return template.mailbox_id in (None, mailbox_id)


def reply_with_template(conv: Conversation, template_id: int, *, rule: str) -> bool:
    """A rule's "reply with a template": to the newest mail of ``conv``, queued like an
    acknowledgement, behind the same guards (a skip is recorded with its reason). Sent
    or not."""
    message = outgoing.last_inbound(conv)
    template = usable(conv.mailbox_id).filter(pk=template_id).first()
    reason: str | None
    if message is None:
        reason = "no_address"
    elif template is None:
        reason = "no_template"
    else:
        setting = AutoReply.objects.filter(mailbox_id=conv.mailbox_id).first()
        quiet = setting.quiet_hours if setting is not None else DEFAULT_QUIET_HOURS
        reason = Guard([conv], replies=False).refuses(conv, message, quiet_hours=quiet)
        if reason is None:
            reason = _send(conv, message, template, rule=rule)
    if reason is not None:
        events.record_many([_skip(conv, reason)])
        return False
    return True


class Guard:
    """The checks every automatic reply passes, loaded once for a batch's conversations."""

    def __init__(self, conversations: list[Conversation], *, replies: bool = True) -> None:
        ids = [c.pk for c in conversations]
        self.own = {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}
        self.status = dict(Conversation.objects.filter(pk__in=ids).values_list("pk", "status"))
        self.calendars: dict[int, BusinessCalendar] = {}
        self.answered: set[int] = set()
        if replies:
            self.answered = set(
                Message.objects.filter(conversation_id__in=ids, direction=Direction.OUT)
                .values_list("conversation_id", flat=True)
                .distinct()
            )

    def calendar(self, mailbox: Mailbox) -> BusinessCalendar:
        if mailbox.pk not in self.calendars:
            self.calendars[mailbox.pk] = calendar_for(mailbox)
        return self.calendars[mailbox.pk]

    def refuses(self, conv: Conversation, message: Message, *, quiet_hours: int) -> str | None:
        """Why ``message`` of ``conv`` must get no automatic reply (None: it may)."""
        if automated(conv, message):
            return "automated"
        return self._address_problem(message) or self._conversation_problem(
            conv, message, quiet_hours
        )

    def _address_problem(self, message: Message) -> str | None:
        emails = [a.email.lower() for a in recipients(message)]
        if not emails:
            return "no_address"
        if any(e in self.own for e in emails):
            return "own_address"
        if any(_NO_REPLY.search(e.partition("@")[0]) for e in emails):
            return "no_reply_address"
        return None

    def _conversation_problem(
        self, conv: Conversation, message: Message, quiet_hours: int
    ) -> str | None:
        if self.status.get(conv.pk, conv.status) in _CLOSED:
            return "closed"
        if conv.pk in self.answered:
            return "answered"
        emails = [a.email.lower() for a in recipients(message)]
        if answered_lately(conv, emails, hours=quiet_hours, since_message=message):
            return "quiet"
        return None


def automated(conv: Conversation, message: Message) -> bool:
    """Mail a program sent: its kind says so, or (for a sender the team listed as a person,
    whose kind the list overrides) its own ``Auto-Submitted`` header does (RFC 3834)."""
    if message.kind != Kind.NORMAL or conv.kind != Kind.NORMAL:
        return True
    people = conv.mailbox.person_sender_list
    if not people or not classify.is_listed(message.from_email, people):
        return False
    return _auto_submitted(message.raw_id)


def _auto_submitted(raw_id: int | None) -> bool:
    if raw_id is None:
        return False
    data = RawMessage.objects.filter(pk=raw_id).values_list("data", flat=True).first()
    if data is None:
        return False
    headers = BytesHeaderParser(policy=default_policy).parsebytes(bytes(data))
    value = str(headers.get("Auto-Submitted", "") or "").strip().lower()
    return bool(value) and not value.startswith("no")


def recipients(message: Message) -> list[Address]:
    """Whom a reply to ``message`` goes to: its Reply-To, else its sender."""
    found = [Address(n, e) for n, e in message.reply_to if e]
    if not found and message.from_email:
        found = [Address(message.from_name, message.from_email)]
    return found


def answered_lately(
    conv: Conversation, emails: Iterable[str], *, hours: int, since_message: Message
) -> bool:
    """Whether this mailbox sent an automatic reply to this customer (the conversation's
    contact, or one of ``emails``) in the ``hours`` before ``since_message`` came."""
    if hours <= 0:
        return False
    since = since_message.received_at - timedelta(hours=hours)
    whom = Q(conversation__contact__addresses__email__in=list(emails))
    if conv.contact_id is not None:
        whom |= Q(conversation__contact_id=conv.contact_id)
    return (
        Message.objects.filter(
            mailbox_id=conv.mailbox_id,
            direction=Direction.OUT,
            author__isnull=True,
            received_at__gte=since,
        )
        .filter(whom)
        .exists()
    )


def _send(conv: Conversation, message: Message, template: Template, *, rule: str) -> str | None:
    """Queue the reply from ``template`` to ``message``; None when queued, else why not."""
    values = variables.values_for(conv.pk, mailbox_id=conv.mailbox_id, agent_user_id=None)
    values.setdefault("agent_name", conv.mailbox.name or conv.mailbox.address)
    text = variables.render(template.body, values)
    subject = (
        variables.render(template.subject, values)
        if template.subject.strip()
        else outgoing.reply_subject(conv)
    )
    ids = template.attachments.values_list("pk", flat=True)
    files = files_of(chosen_attachments(ids, mailbox_id=conv.mailbox_id).found)
    mail = outgoing.compose_automatic(
        conv,
        subject=subject,
        to=recipients(message),
        content=outgoing.Content(text, "", files),
        answering=message,
    )
    try:
        with transaction.atomic():
            outbox.queue_automatic(conv, mail=mail, rule=rule)
    except UnsafeAddress:
        return "bad_address"
    count_use([template.pk], conv=conv, actor_id=None)
    return None


def _skip(conv: Conversation, reason: str) -> Event:
    return events.build(
        EventType.AUTO_REPLY_SKIPPED,
        mailbox_id=conv.mailbox_id,
        conversation_id=conv.pk,
        reason=reason,
    )
