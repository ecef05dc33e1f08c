""" "Test connection": say what failed when talking to a mailbox's IMAP or SMTP server, in
the admin's language, and what to try next.

Each failure an admin meets in the first hour has its own sentence: the host not found
(DNS), nothing listening, no answer in time, a TLS handshake that fails (most often the
security setting does not match the port), an untrusted certificate, a server that does
not speak the protocol on that port, STARTTLS or AUTH not offered, the login refused,
the folder missing, and a stored password that no current secret key can read.
"""

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


def _hint_security(protocol: str) -> str:
    if protocol == "imap":
        return _("Usually: port 993 with SSL/TLS, or port 143 with STARTTLS.")
    return _("Usually: port 465 with SSL/TLS, or port 587 with STARTTLS.")


def _network_error(exc: BaseException, host: str, port: int, protocol: str, timeout: float) -> str:
    """The sentence for a failure below the mail protocol (DNS, TCP, TLS)."""
    where = {"host": host, "port": port, "protocol": protocol.upper()}
    closed = (ConnectionError, EOFError, smtplib.SMTPServerDisconnected, imaplib.IMAP4.abort)
    if isinstance(exc, socket.gaierror):
        text = (
            _(
                "Cannot find the host %(host)s (DNS). Check the spelling of the host name, "
                "or ask your mail provider for the server's name."
            )
            % where
        )
    elif isinstance(exc, ConnectionRefusedError):
        text = (
            _(
                "%(host)s:%(port)s refused the connection: nothing listens on that port. "
                "Check the port."
            )
            % where
            + " "
            + _hint_security(protocol)
        )
    elif isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        text = _(
            "%(host)s:%(port)s did not answer within %(seconds)s seconds. Check the host and "
            "the port, and that no firewall stands between this server and it."
        ) % {**where, "seconds": int(timeout)}
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = _(
            "The certificate of %(host)s is not trusted (%(reason)s). Use the host name "
            "written in the server's certificate; self-signed certificates are not accepted."
        ) % {**where, "reason": exc.verify_message or exc.reason}
    elif isinstance(exc, ssl.SSLError):
        text = (
            _(
                "The TLS handshake with %(host)s:%(port)s failed (%(reason)s): the security "
                "setting probably does not match the port."
            )
            % {**where, "reason": exc.reason or exc}
            + " "
            + _hint_security(protocol)
        )
    elif isinstance(exc, closed):
        text = (
            _(
                "%(host)s:%(port)s closed the connection: it may not speak %(protocol)s on this "
                "port, or expects another security setting."
            )
            % where
            + " "
            + _hint_security(protocol)
        )
    else:
        text = _("Connection to %(host)s:%(port)s failed: %(error)s") % {**where, "error": exc}
    return str(text)


def _lost(protocol: str) -> CheckResult:
    return CheckResult(False, _(
        "The stored %(protocol)s password can no longer be read: the secret key changed "
        "since it was saved. Type the password again, then save."
    ) % {"protocol": protocol.upper()})  # fmt: skip


def _login_refused(protocol: str, answer: str) -> CheckResult:
    return CheckResult(False, _(
        "The %(protocol)s server refused the login: %(answer)s. Check the user name and the "
        "password; some providers (Gmail, Microsoft 365) need an app password for this."
    ) % {"protocol": protocol.upper(), "answer": answer.strip().rstrip(".")})  # fmt: skip


def check_imap(mailbox: Mailbox, *, timeout: float = 15) -> CheckResult:
    host = mailbox.imap_host
    port = mailbox.imap_port or (993 if mailbox.imap_security == Security.SSL else 143)
    if not host or not mailbox.imap_user:
        return CheckResult(False, _("Give the IMAP host and user first."))
    if "imap" in mailbox.lost_passwords:
        return _lost("imap")
    try:
        count = _imap_count(mailbox, timeout)
    except Exception as exc:
        return CheckResult(False, _imap_failure(exc, host, port, timeout))
    if count is None:
        return CheckResult(False, _(
            "Signed in, but there is no folder %(folder)s. Check its name (INBOX is "
            "the usual one; some servers tell capitals apart)."
        ) % {"folder": mailbox.imap_folder})  # fmt: skip
    return CheckResult(True, _("IMAP works: %(count)d messages in %(folder)s.") % {
        "count": count, "folder": mailbox.imap_folder,
    })  # fmt: skip


def _imap_count(mailbox: Mailbox, timeout: float) -> int | None:
    """Messages in the folder; None when the folder does not exist."""
    from madoguchi.mail_in.imap import connect

    with connect(mailbox, timeout=timeout) as box:
        status, data = box.client.select(f'"{mailbox.imap_folder}"', readonly=True)
        return int((data[0] or b"0").decode()) if status == "OK" else None


def _imap_failure(exc: Exception, host: str, port: int, timeout: float) -> str:
    where = {"host": host, "port": port}
    if exc.__class__.__name__ == "MailboxLoginError":  # imap_tools: the server said NO
        return _login_refused("imap", _imap_answer(exc)).message
    tls_missing = "STARTTLS" in str(exc) or "TLS not supported" in str(exc)
    if isinstance(exc, imaplib.IMAP4.error) and (
        tls_missing or not isinstance(exc, imaplib.IMAP4.abort)
    ):
        if tls_missing:
            text = _("%(host)s:%(port)s does not offer STARTTLS.") % where
        else:
            text = _("%(host)s:%(port)s did not answer as an IMAP server would (%(answer)s).") % {
                **where, "answer": exc,
            }  # fmt: skip
        return f"{text} {_hint_security('imap')}"
    return _network_error(exc, host, port, "imap", timeout)


def _imap_answer(exc: Exception) -> str:
    """The server's words from imap_tools' MailboxLoginError (its command result)."""
    result = getattr(exc, "command_result", None)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], list):
        return " ".join(
            x.decode(errors="replace") if isinstance(x, bytes) else str(x) for x in result[1]
        )
    return str(exc)


def check_smtp(mailbox: Mailbox, *, timeout: float = 15) -> CheckResult:
    host, security = mailbox.smtp_host, mailbox.smtp_security
    port = mailbox.smtp_port or (465 if security == Security.SSL else 587)
    if not host:
        return CheckResult(False, _("Give the SMTP host first."))
    if "smtp" in mailbox.lost_passwords:
        return _lost("smtp")
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
    except (OSError, smtplib.SMTPException) as exc:
        return CheckResult(False, _smtp_failure(exc, host, port, timeout))
    return CheckResult(
        True, _("SMTP works: %(host)s:%(port)s accepted us.") % {"host": host, "port": port}
    )


def _smtp_failure(exc: Exception, host: str, port: int, timeout: float) -> str:
    where, answer = {"host": host, "port": port}, ""
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        answer = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        answer = f"{exc.smtp_code} {answer}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = _login_refused("smtp", answer).message
    elif isinstance(exc, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(exc):
        text = _("%(host)s:%(port)s does not offer STARTTLS.") % where
        text += " " + _hint_security("smtp")
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        text = (
            _(
                "%(host)s:%(port)s does not take a login (no SMTP AUTH). Leave the SMTP user "
                "empty if this server accepts mail from this machine without one, or use the "
                "submission port with STARTTLS."
            )
            % where
        )
    elif isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code < 0:
        text = _("%(host)s:%(port)s did not answer as an SMTP server would (%(answer)s).") % {
            **where, "answer": answer.removeprefix("-1 ")[:200],
        }  # fmt: skip
        text += " " + _hint_security("smtp")
    elif isinstance(exc, smtplib.SMTPResponseException):  # e.g. 554 at the greeting
        text = _(
            "The SMTP server answered %(answer)s. Ask its administrator whether this "
            "machine may send through it."
        ) % {"answer": answer}
    else:
        text = _network_error(exc, host, port, "smtp", timeout)
    return str(text)
