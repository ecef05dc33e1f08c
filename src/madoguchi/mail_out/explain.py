"""Why a reply has not left, said in the agent's language, with what to do next.

``smtp.send`` classifies each failure into a ``Reason`` that ``deliver`` keeps on the
outbox row; this turns it into two sentences (what happened, what to do), shown where the
queued or failed reply is shown. The server's own answer stays available as the detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from madoguchi.mail_out.models import Outbox, OutboxStatus
from madoguchi.mail_out.smtp import Reason

#: Reasons an admin fixes in the mailbox settings (the page links there).
SETTINGS = {Reason.NO_SERVER, Reason.LOST_PASSWORD, Reason.DNS, Reason.REFUSED,
            Reason.CERTIFICATE, Reason.TLS, Reason.AUTH, Reason.SENDER}  # fmt: skip

_SENTENCES: dict[Reason, tuple[Promise, Promise]] = {
    Reason.NO_SERVER: (
        _("No outgoing (SMTP) server is set for this mailbox, so the reply cannot leave."),
        _("An admin can set it in the mailbox settings; the reply is tried again until then."),
    ),
    Reason.LOST_PASSWORD: (
        _(
            "The outgoing server's password can no longer be read: the secret key changed "
            "since it was saved."
        ),
        _("An admin must type the SMTP password again in the mailbox settings."),
    ),
    Reason.DNS: (
        _("The outgoing server's name could not be found (DNS)."),
        _("Check the SMTP host in the mailbox settings, and this server's network."),
    ),
    Reason.REFUSED: (
        _("The outgoing server refused the connection: nothing listens on that port."),
        _(
            "Check the SMTP host and port in the mailbox settings (usually 587 with "
            "STARTTLS, or 465 with SSL/TLS)."
        ),
    ),
    Reason.TIMEOUT: (
        _("The outgoing server did not answer in time."),
        _(
            "It is tried again shortly. If it keeps failing, check the host, the port and "
            "any firewall in between."
        ),
    ),
    Reason.CERTIFICATE: (
        _("The outgoing server's certificate is not trusted."),
        _("Use the host name written in the server's certificate in the mailbox settings."),
    ),
    Reason.TLS: (
        _("The secure connection (TLS) to the outgoing server failed."),
        _(
            "The security setting probably does not match the port: usually 587 with "
            "STARTTLS, or 465 with SSL/TLS."
        ),
    ),
    Reason.DISCONNECTED: (
        _("The outgoing server closed the connection."),
        _(
            "It is tried again shortly. If it keeps failing, check the port and the "
            "security setting."
        ),
    ),
    Reason.AUTH: (
        _("The outgoing server refused the user name or password."),
        _(
            "An admin should check the SMTP user and password in the mailbox settings; "
            "some providers (Gmail, Microsoft 365) need an app password."
        ),
    ),
    Reason.SENDER: (
        _("The outgoing server refused our sender address."),
        _(
            "The server may not allow sending as this address: check the mailbox address, "
            "or ask your mail provider."
        ),
    ),
    Reason.RECIPIENT: (
        _("The server refused a recipient's address."),
        _("Check the address for typos, then send the reply again with it corrected."),
    ),
    Reason.TOO_BIG: (
        _("The mail is larger than the server accepts."),
        _("Send smaller files (or a link to them), then send the reply again."),
    ),
    Reason.BUSY: (
        _("The outgoing server asked to try again later."),
        _("It is tried again automatically."),
    ),
    Reason.REJECTED: (
        _("The outgoing server rejected the mail."),
        _("Read the server's answer below; ask your mail provider if it is unclear."),
    ),
    Reason.NETWORK: (
        _("The outgoing server could not be reached."),
        _("It is tried again shortly. If it keeps failing, check this server's network."),
    ),
}


_PARTLY = (
    _("The reply was sent, but the server refused some of the recipients."),
    _("Check the refused addresses below; send those recipients the reply again if needed."),
)


@dataclass(frozen=True)
class Problem:
    what: Promise
    next: Promise
    settings: bool  # an admin fixes it in the mailbox settings
    retrying: bool  # still queued: it is tried again at ``outbox.send_after``
    sent: bool  # it left, but not to everyone
    detail: str  # the server's own answer


def explain(outbox: Outbox) -> Problem | None:
    """The problem of a queued (retrying), failed or partly refused mail; None if none."""
    shown = (OutboxStatus.QUEUED, OutboxStatus.FAILED, OutboxStatus.SENT)
    if not outbox.last_error or outbox.status not in shown:
        return None
    if outbox.status == OutboxStatus.SENT:
        return Problem(what=_PARTLY[0], next=_PARTLY[1], settings=False, retrying=False,
                       sent=True, detail=outbox.last_error)  # fmt: skip
    try:
        reason = Reason(outbox.error_reason)
    except ValueError:  # rows from before reasons were kept
        reason = Reason.REJECTED if outbox.status == OutboxStatus.FAILED else Reason.NETWORK
    what, then = _SENTENCES[reason]
    return Problem(
        what=what,
        next=then,
        settings=reason in SETTINGS,
        retrying=outbox.status == OutboxStatus.QUEUED,
        sent=False,
        detail=outbox.last_error,
    )
