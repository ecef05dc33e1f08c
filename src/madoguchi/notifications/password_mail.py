"""The password-reset mail, sent by the task worker through a mailbox's SMTP server.

Asking for it (``request_reset_mail``, ``mail_reset_link``) and sending it. It goes the way
notification mail goes (``notifications.actions.send_mail``): from a shared
address, over that mailbox's outgoing server, with links to ``MADOGUCHI_BASE_URL``. The
worker sends it, not the page, so the page answers as fast whether or not the address
belongs to someone.
"""

from __future__ import annotations

import logging
from email.utils import make_msgid
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport.
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from madoguchi.accounts.models import Agent
from madoguchi.accounts.passwords import (
    LINK_DAYS,
    record_admin_reset,
    reset_mail_recipients,
    reset_path,
)
from madoguchi.mailboxes.models import Mailbox

log = logging.getLogger("madoguchi.accounts")


def outbound_mailbox(user: User | None = None) -> Mailbox | None:
    """The mailbox whose SMTP server sends account mail: one of ``user``'s, else any."""
    mailboxes = Mailbox.objects.exclude(smtp_host="")
    if user is not None:
        mine = Case(
            When(memberships__user=user, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        mailboxes = mailboxes.annotate(mine=mine).order_by("mine", "pk")
    else:
        mailboxes = mailboxes.order_by("pk")
    return mailboxes.first()


def can_mail() -> bool:
    return outbound_mailbox() is not None


def request_reset_mail(email: str) -> None:
    """Someone who forgot their password typed ``email``. The worker looks it up and mails
    (``mail_password_reset_to``): the page does the same work, and takes the
    same time, whether the address belongs to someone or not."""
    mail_password_reset_to.enqueue(email.strip().lower())


def mail_reset_link(agent: Agent, *, actor_id: int) -> None:
    """An admin has a reset link mailed to the agent's address."""
    with transaction.atomic():
        record_admin_reset(agent, actor_id, "mail")
        transaction.on_commit(partial(mail_password_reset.enqueue, agent.user_id))


def reset_mail_text(name: str, username: str, link: str) -> tuple[str, str]:
    """Subject and text of the mail, in the active language."""
    subject = _("[Madoguchi] Choose a new password")
    text = _(
        "Hello %(name)s,\n\n"
        "someone (we hope you) asked for a new password for the Madoguchi account "
        "%(username)s. Open this link within %(days)s days to choose one; it works once:\n\n"
        "%(link)s\n\n"
        "If you did not ask for it, ignore this mail: your password stays as it is.\n"
    ) % {"name": name, "username": username, "days": LINK_DAYS, "link": link}
    return subject, text


def send_reset_mail(user_id: int) -> str:
    from madoguchi.mail import Address
    from madoguchi.mail.compose import Outgoing, build
    from madoguchi.mail_out import smtp

    user = User.objects.select_related("agent").filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return "nothing to do"
    mailbox = outbound_mailbox(user)
    if mailbox is None:
        return "no SMTP server"
    agent = user.agent
    link = settings.MADOGUCHI.base_url + reset_path(user)
    with translation.override(agent.language or settings.LANGUAGE_CODE):
        subject, text = reset_mail_text(agent.name, user.get_username(), link)
    data = build(
        Outgoing(
            sender=Address("Madoguchi", mailbox.address),
            to=[Address(agent.name, user.email)],
            subject=subject,
            text=text,
            message_id=make_msgid(domain=mailbox.domain)[1:-1],
            date=timezone.now(),
        )
    )
    try:
        smtp.send(mailbox, mailbox.address, [user.email], data)
    except smtp.DeliveryError as exc:
        log.warning("password mail for user %s not sent: %s", user.pk, exc)
        return "failed"
    return "sent"


@task()
def mail_password_reset(user_id: int) -> str:
    """An admin asked for the mail: to this account's address."""
    return send_reset_mail(user_id)


@task()
def mail_password_reset_to(email: str) -> str:
    """Someone typed ``email`` on the forgot-password page: to each account that has it."""
    sent = [send_reset_mail(user.pk) for user in reset_mail_recipients(email)]
    return f"{sent.count('sent')} sent"
