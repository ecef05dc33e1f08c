"""Notification mail goes only to an address its agent confirmed.

Anyone may type any address in their settings; without a check, a member could have the
team's notifications (subjects of customers' mail) sent to a stranger, or flood a
stranger with them. So turning notification mail on, or changing the address, mails a
signed link to the address; notification mail starts when the agent, signed in, opens it
(``actions.confirm_address``). The link names the agent and the address and lasts
``LINK_DAYS``; only its signature, never a stored secret, proves it.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core import signing

from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.models import ConfirmedAddress

SALT = "madoguchi.notifications.address"
LINK_DAYS = 3
#: A new confirmation mail for the same agent at most this often.
RESEND_AFTER = timedelta(minutes=1)


def normalized(email: str) -> str:
    return email.strip().lower()


def is_confirmed(user: User) -> bool:
    """Whether notification mail may go to ``user.email`` now."""
    email = normalized(user.email)
    return bool(email) and ConfirmedAddress.objects.filter(user=user, email=email).exists()


def make_token(user: User) -> str:
    """The signed, dated token of the link that confirms ``user.email`` for ``user``."""
    return signing.dumps({"u": user.pk, "e": normalized(user.email)}, salt=SALT)


def read_token(token: str) -> tuple[int, str] | None:
    """(user id, address) of a valid, unexpired token; None for anything else."""
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=LINK_DAYS))
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    if not isinstance(data, dict):
        return None
    user_id, email = data.get("u"), data.get("e")
    if not isinstance(user_id, int) or not isinstance(email, str):
        return None
    return user_id, email


def sending_mailbox(user: User) -> Mailbox | None:
    """The mailbox whose outgoing server sends ``user`` a confirmation: the first of theirs
    that has one (None: no way to send it)."""
    from madoguchi.mailboxes.queries import visible_mailboxes

    return visible_mailboxes(user).exclude(smtp_host="").order_by("pk").first()
