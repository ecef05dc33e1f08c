"""Read-only lookups of mailboxes."""

from __future__ import annotations

from madoguchi.mailboxes.models import Mailbox


def mailbox_for_address(address: str) -> Mailbox | None:
    """The mailbox whose shared address is ``address`` (case-insensitive), or None."""
    return Mailbox.objects.filter(address__iexact=address.strip().strip("<>")).first()


def mailbox_by_address(address: str) -> Mailbox:
    """Like ``mailbox_for_address`` but raises ``LookupError`` with a clear message."""
    mailbox = mailbox_for_address(address)
    if mailbox is None:
        raise LookupError(f"no mailbox with the address {address!r} (see `madoguchi mailbox add`)")
    return mailbox
