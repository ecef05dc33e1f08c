""" "Test connection": say exactly what failed when talking to a mailbox's IMAP or SMTP server."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.utils.translation import gettext as _

from madoguchi.mailboxes.models import Mailbox, Security


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def _network_error(exc: BaseException, host: str, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return _("Cannot find the host %(host)s (DNS).") % {"host": host}
    if isinstance(exc, ConnectionRefusedError):
        return _("%(host)s:%(port)s refused the connection (nothing listens there?).") % {
            "host": host,
            "port": port,
        }
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("%(host)s:%(port)s did not answer in time.") % {"host": host, "port": port}
    if isinstance(exc, ssl.SSLError):
        return _("The TLS handshake with %(host)s failed: %(reason)s") % {
            "host": host,
            "reason": exc.reason or exc,
        }
    return _("Connection to %(host)s:%(port)s failed: %(error)s") % {
        "host": host,
        "port": port,
        "error": exc,
    }


def check_imap(mailbox: Mailbox, *, timeout: float = 15) -> CheckResult:
    from madoguchi.mail_in.imap import connect

    host = mailbox.imap_host
    port = mailbox.imap_port or (993 if mailbox.imap_security == Security.SSL else 143)
    if not host or not mailbox.imap_user:
        return CheckResult(False, _("Give the IMAP host and user first."))
    try:
        with connect(mailbox, timeout=timeout) as box:
            status, _data = box.client.select(f'"{mailbox.imap_folder}"', readonly=True)
            if status != "OK":
                return CheckResult(
                    False,
                    _("Signed in, but the folder %(folder)s does not exist.")
                    % {"folder": mailbox.imap_folder},
                )
            count = int((_data[0] or b"0").decode())
    except imaplib.IMAP4.error as exc:
        return CheckResult(
            False, _("The IMAP server refused the login: %(answer)s") % {"answer": exc}
        )
    except Exception as exc:
        if exc.__class__.__name__ == "MailboxLoginError":
            return CheckResult(
                False, _("The IMAP server refused the login: %(answer)s") % {"answer": exc}
            )
        return CheckResult(False, _network_error(exc, host, port))
    return CheckResult(
        True,
        _("IMAP works: %(count)d messages in %(folder)s.")
        % {"count": count, "folder": mailbox.imap_folder},
    )


def check_smtp(mailbox: Mailbox, *, timeout: float = 15) -> CheckResult:
    host, security = mailbox.smtp_host, mailbox.smtp_security
    port = mailbox.smtp_port or (465 if security == Security.SSL else 587)
    if not host:
        return CheckResult(False, _("Give the SMTP host first."))
    try:
        client: smtplib.SMTP
        if security == Security.SSL:
            client = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if security == Security.STARTTLS:
                client.starttls(context=ssl.create_default_context())
            if mailbox.smtp_user:
                client.login(mailbox.smtp_user, mailbox.smtp_password)
            client.noop()
    except smtplib.SMTPAuthenticationError as exc:
        answer = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return CheckResult(
            False,
            _("The SMTP server refused the login: %(answer)s")
            % {"answer": f"{exc.smtp_code} {answer}"},
        )
    except smtplib.SMTPNotSupportedError as exc:
        return CheckResult(
            False, _("The SMTP server does not offer this: %(answer)s") % {"answer": exc}
        )
    except (OSError, smtplib.SMTPException) as exc:
        return CheckResult(False, _network_error(exc, host, port))
    return CheckResult(
        True, _("SMTP works: %(host)s:%(port)s accepted us.") % {"host": host, "port": port}
    )
