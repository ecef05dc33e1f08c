"""Every notification is made here, in the caller's transaction, with its event.

The callers are the observers of ``notifications.observers``: the apps below never call
here, they record events. The event (``notification.created``, data ``to``) is what the hub
pushes to that agent's tabs only (the bell count, a browser notification); an agent who
asked for mail gets one from a task after commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import timedelta
from email.utils import make_msgid
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.notifications import addresses
from madoguchi.notifications.models import ConfirmedAddress, Kind, Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from madoguchi.conversations.models import Conversation
    from madoguchi.core.models import Event

log = logging.getLogger("madoguchi.notifications")


class Tell(NamedTuple):
    """One agent to tell about one conversation."""

    user_id: int | None
    conversation_id: int
    mailbox_id: int


def notify(user_ids: Iterable[int | None], kind: Kind, *, about: Event) -> list[Notification]:
    """Tell these agents (never the one who did it) that ``kind`` happened: what ``about``
    (an event of one conversation) records."""
    assert about.conversation_id is not None and about.mailbox_id is not None
    tells = [Tell(u, about.conversation_id, about.mailbox_id) for u in dict.fromkeys(user_ids)]
    return notify_each(tells, kind, actor_id=about.actor_id)


def notify_each(tells: Iterable[Tell], kind: Kind, *, actor_id: int | None) -> list[Notification]:
    """``notify`` for many agents and conversations at once (one ingest batch, say): one
    insert of notifications, one of events, and one query for who wants mail."""
    from madoguchi.accounts.models import Agent

    wanted = [(u, t) for t in tells if (u := t.user_id) is not None and u != actor_id]
    if not wanted:
        return []
    made = Notification.objects.bulk_create(
        Notification(user_id=u, kind=kind, conversation_id=t.conversation_id, actor_id=actor_id)
        for u, t in wanted
    )
    events.record_many([
        events.build(EventType.NOTIFICATION_CREATED, mailbox_id=t.mailbox_id,
                     conversation_id=t.conversation_id, actor_id=actor_id, to=n.user_id,
                     kind=kind.value, notification=n.pk)
        for n, (_, t) in zip(made, wanted, strict=True)
    ])  # fmt: skip
    by_mail = set(
        Agent.objects.filter(
            user_id__in={n.user_id for n in made},
            notify_by_mail=True,
            user__confirmed_address__isnull=False,  # the address itself: send_mail
        )
        .exclude(user__email="")
        .values_list("user_id", flat=True)
    )
    from madoguchi.notifications.tasks import mail_notification

    for n in made:
        if n.user_id in by_mail:
            transaction.on_commit(partial(mail_notification.enqueue, n.pk))
    return made


def mark_read(user_id: int, ids: list[int] | None = None) -> int:
    """Mark some (or all) of an agent's notifications read; how many changed."""
    rows = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


#: A notification mail the server refused for now is tried again this many times, a minute,
#: then two, then four later.
MAIL_ATTEMPTS = 4


def send_mail(notification_id: int, attempt: int = 1) -> str:
    """Mail one notification to its agent from the conversation's shared address."""
    from madoguchi.mail import Address
    from madoguchi.mail.compose import Outgoing, build
    from madoguchi.mail_out import smtp
    from madoguchi.notifications.text import describe

    n = (
        Notification.objects.select_related("user__agent", "conversation__mailbox", "actor__agent")
        .filter(pk=notification_id, mailed_at__isnull=True)
        .first()
    )
    if n is None or n.conversation is None or not n.user.email:
        return "nothing to do"
    if refused := _not_to_mail(n):
        return refused
    mailbox = n.conversation.mailbox
    agent = n.user.agent
    with translation.override(agent.language or "ja"):
        title, body, url = describe(n)
    data = build(
        Outgoing(
            sender=Address("Madoguchi", mailbox.address),
            to=[Address(agent.name, n.user.email)],
            subject=f"[Madoguchi] {title}",
            text=f"{body}\n\n{settings.MADOGUCHI.base_url}{url}\n",
            message_id=make_msgid(domain=mailbox.domain)[1:-1],
            date=timezone.now(),
        )
    )
    try:
        smtp.send(mailbox, mailbox.address, [n.user.email], data)
    except smtp.DeliveryError as exc:
        log.warning("notification %s not mailed (attempt %s): %s", n.pk, attempt, exc)
        if exc.temporary and attempt < MAIL_ATTEMPTS:
            from madoguchi.notifications.tasks import mail_notification

            later = timezone.now() + timedelta(minutes=2 ** (attempt - 1))
            mail_notification.using(run_after=later).enqueue(n.pk, attempt + 1)
            return "retrying"
        return "failed"
    Notification.objects.filter(pk=n.pk).update(mailed_at=timezone.now())
    return "sent"


def _not_to_mail(n: Notification) -> str:
    """Why ``n`` must not be mailed ('' if it may be)."""
    assert n.conversation is not None
    if not addresses.is_confirmed(n.user):
        return "address not confirmed"
    if not can_open(n.user, n.conversation):
        return "no access to the conversation any more"
    if not n.conversation.mailbox.smtp_host:
        return "no SMTP server for this mailbox"
    return ""


def can_open(user: User, conversation: Conversation) -> bool:
    """Whether ``user`` may still open ``conversation`` (a member of its mailbox, or admin).

    A notification outlives its reader's access: once they leave the mailbox it no longer
    shows the conversation's subject, on the page, in the browser or by mail.
    """
    from madoguchi.mailboxes.queries import visible_mailboxes

    return user.is_active and visible_mailboxes(user).filter(pk=conversation.mailbox_id).exists()


def ask_to_confirm(user: User) -> bool:
    """Mail a confirmation link to ``user.email`` (after commit). False if one went to the
    same address less than ``addresses.RESEND_AFTER`` ago, or there is nothing to confirm."""
    email = addresses.normalized(user.email)
    if not email or addresses.is_confirmed(user):
        return False
    from madoguchi.core.models import Event

    digest = hashlib.sha256(email.encode()).hexdigest()[:16]  # the address itself stays out
    recent = Event.objects.filter(
        type=EventType.NOTIFICATION_ADDRESS_ASKED.value,
        actor_id=user.pk,
        created_at__gt=timezone.now() - addresses.RESEND_AFTER,
        data__address=digest,
    )
    if recent.exists():
        return False
    from madoguchi.notifications.tasks import mail_confirmation

    with transaction.atomic():
        events.record(EventType.NOTIFICATION_ADDRESS_ASKED, actor_id=user.pk, address=digest)
        transaction.on_commit(partial(mail_confirmation.enqueue, user.pk, email))
    return True


def confirm_address(user: User, token: str) -> bool:
    """``user``, signed in, opened the link of ``token``: notification mail may go to their
    address. False if the token is invalid, expired, another agent's or another address's."""
    found = addresses.read_token(token)
    email = addresses.normalized(user.email)
    if found is None or found != (user.pk, email) or not email:
        return False
    with transaction.atomic():
        ConfirmedAddress.objects.update_or_create(
            user=user, defaults={"email": email, "confirmed_at": timezone.now()}
        )
        events.record(EventType.NOTIFICATION_ADDRESS_CONFIRMED, actor_id=user.pk)
    return True


def send_confirmation(user_id: int, email: str) -> str:
    """Mail the confirmation link for ``email`` to it, if it is still the agent's address."""
    from django.contrib.auth.models import User as UserModel

    from madoguchi.mail import Address
    from madoguchi.mail.compose import Outgoing, build
    from madoguchi.mail_out import smtp

    user = UserModel.objects.select_related("agent").filter(pk=user_id).first()
    if user is None or addresses.normalized(user.email) != email:
        return "address changed"
    mailbox = addresses.sending_mailbox(user)
    if mailbox is None:
        return "no SMTP server"
    agent = getattr(user, "agent", None)
    link = f"{settings.MADOGUCHI.base_url}/settings/?confirm={addresses.make_token(user)}"
    with translation.override((agent.language if agent else "") or "ja"):
        from django.utils.translation import gettext as _

        subject = _("Confirm your address for notification mail")
        text = _(
            "Open this link, signed in to Madoguchi, to receive your notifications by mail "
            "at this address. The link is valid for %(days)d days.\n\n%(link)s\n\n"
            "If you did not ask for this, ignore this mail: nothing will be sent to you."
        ) % {"days": addresses.LINK_DAYS, "link": link}
    data = build(
        Outgoing(
            sender=Address("Madoguchi", mailbox.address),
            to=[Address(agent.name if agent else "", email)],
            subject=f"[Madoguchi] {subject}",
            text=text + "\n",
            message_id=make_msgid(domain=mailbox.domain)[1:-1],
            date=timezone.now(),
        )
    )
    try:
        smtp.send(mailbox, mailbox.address, [email], data)
    except smtp.DeliveryError as exc:
        log.warning("confirmation for user %s not mailed: %s", user_id, exc)
        return "failed"
    return "sent"
