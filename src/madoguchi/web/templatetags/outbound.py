"""Template filters of outbound mail: whether a mailbox keeps its mail locally (the demo)."""

from __future__ import annotations

from django import template

from madoguchi.demo import keeps_mail_locally as _keeps
from madoguchi.mailboxes.models import Mailbox

register = template.Library()


@register.filter
def keeps_mail_locally(mailbox: Mailbox) -> bool:
    return _keeps(mailbox)
