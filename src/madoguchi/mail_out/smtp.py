"""Hand one message to the mailbox's SMTP server (RFC 5321), classifying failures.

Every failure carries a ``Reason`` (kept on the outbox row, explained to the agent in
their language by ``explain``) and whether trying again later can help: a server that is
down, busy or not yet set up may be fixed before the next try; a recipient the server
refuses or a mail that is too big will not change by waiting.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from enum import StrEnum

from madoguchi.mailboxes.models import Mailbox, Security

TIMEOUT = 60


class Reason(StrEnum):
    """Why a mail did not leave; each has its sentence in ``explain``."""

    NO_SERVER = "no_server"
    LOST_PASSWORD = "lost_password"
    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    CERTIFICATE = "certificate"
    TLS = "tls"
    DISCONNECTED = "disconnected"
    AUTH = "auth"
    SENDER = "sender"
    RECIPIENT = "recipient"
    TOO_BIG = "too_big"
    BUSY = "busy"  # another 4xx answer
    REJECTED = "rejected"  # another 5xx answer
    NETWORK = "network"


class DeliveryError(Exception):
    """The server's answer, why, and whether trying again later can help."""

    def __init__(self, message: str, *, temporary: bool, reason: Reason = Reason.REJECTED) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.reason = reason


def _answer(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def _too_big(code: int, answer: str) -> bool:
    """552 / 5.3.4 / "message size exceeds": the mail is over the server's limit."""
    lowered = answer.lower()
    return code == 552 or "5.3.4" in lowered or ("size" in lowered and code >= 500)


def _response_error(exc: smtplib.SMTPResponseException) -> DeliveryError:
    answer = _answer(exc.smtp_code, exc.smtp_error)
    code = exc.smtp_code
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = Reason.AUTH
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        reason = Reason.TOO_BIG if _too_big(code, answer) else Reason.SENDER
    elif _too_big(code, answer):
        reason = Reason.TOO_BIG
    else:
        reason = Reason.BUSY if code < 500 else Reason.REJECTED
    # a refused login may be fixed by an admin before the next try; so may a full mailbox
    temporary = code < 500 or reason == Reason.AUTH
    return DeliveryError(answer, temporary=temporary, reason=reason)


def _network_error(exc: BaseException, where: str) -> DeliveryError:
    if isinstance(exc, socket.gaierror):
        reason = Reason.DNS
    elif isinstance(exc, ConnectionRefusedError):
        reason = Reason.REFUSED
    elif isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        reason = Reason.TIMEOUT  # smtplib reports a read timeout as "disconnected"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        reason = Reason.CERTIFICATE
    elif isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        reason = Reason.TLS
    elif isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | EOFError):
        reason = Reason.DISCONNECTED
    else:
        reason = Reason.NETWORK
    return DeliveryError(f"cannot reach {where}: {exc}", temporary=True, reason=reason)


def send(mailbox: Mailbox, envelope_from: str, recipients: list[str], data: bytes) -> None:
    """Send ``data`` through the mailbox's server; raises ``DeliveryError``."""
    if not mailbox.smtp_host:
        raise DeliveryError("no outgoing server is set", temporary=True, reason=Reason.NO_SERVER)
    if lost := mailbox.lost_password_error("smtp"):
        raise DeliveryError(lost, temporary=True, reason=Reason.LOST_PASSWORD)
    security = mailbox.smtp_security
    port = mailbox.smtp_port or (465 if security == Security.SSL else 587)
    try:
        client: smtplib.SMTP
        if security == Security.SSL:
            client = smtplib.SMTP_SSL(
                mailbox.smtp_host, port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(mailbox.smtp_host, port, timeout=TIMEOUT)
        with client:
            if security == Security.STARTTLS:
                client.starttls(context=ssl.create_default_context())
            if mailbox.smtp_user:
                client.login(mailbox.smtp_user, mailbox.smtp_password)
            refused = client.sendmail(envelope_from, recipients, data)
    except smtplib.SMTPRecipientsRefused as exc:
        answers = "; ".join(f"{r}: {_answer(c, m)}" for r, (c, m) in exc.recipients.items())
        temporary = all(c < 500 for c, _ in exc.recipients.values())
        raise DeliveryError(answers, temporary=temporary, reason=Reason.RECIPIENT) from exc
    except smtplib.SMTPResponseException as exc:
        raise _response_error(exc) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise _network_error(exc, f"{mailbox.smtp_host}:{port}") from exc
    if refused:
        answers = "; ".join(f"{r}: {_answer(c, m)}" for r, (c, m) in refused.items())
        raise PartlyRefused(f"some recipients refused: {answers}")


class PartlyRefused(DeliveryError):
    """The server took the mail for some recipients and refused the others: it has left
    (sending it again would send it twice), and the refused addresses need a look."""

    def __init__(self, message: str) -> None:
        super().__init__(message, temporary=False, reason=Reason.RECIPIENT)
