"""Hand one message to the mailbox's SMTP server (RFC 5321), classifying failures."""

from __future__ import annotations

import smtplib
import ssl

from madoguchi.mailboxes.models import Mailbox, Security


class DeliveryError(Exception):
    """The server's answer, and whether trying again later can help."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def send(mailbox: Mailbox, envelope_from: str, recipients: list[str], data: bytes) -> None:
    security = mailbox.smtp_security
    port = mailbox.smtp_port or (465 if security == Security.SSL else 587)
    try:
        client: smtplib.SMTP
        if security == Security.SSL:
            client = smtplib.SMTP_SSL(
                mailbox.smtp_host, port, timeout=60, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(mailbox.smtp_host, port, timeout=60)
        with client:
            if security == Security.STARTTLS:
                client.starttls(context=ssl.create_default_context())
            if mailbox.smtp_user:
                client.login(mailbox.smtp_user, mailbox.smtp_password)
            refused = client.sendmail(envelope_from, recipients, data)
    except smtplib.SMTPRecipientsRefused as exc:
        answers = "; ".join(
            f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in exc.recipients.items()
        )
        raise DeliveryError(
            answers, temporary=all(c < 500 for c, _ in exc.recipients.values())
        ) from exc
    except smtplib.SMTPResponseException as exc:
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        answer = f"{exc.smtp_code} {text}"
        raise DeliveryError(answer, temporary=exc.smtp_code < 500) from exc
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"cannot reach {mailbox.smtp_host}:{port}: {exc}", temporary=True
        ) from exc
    if refused:
        answers = "; ".join(
            f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in refused.items()
        )
        raise DeliveryError(f"some recipients refused: {answers}", temporary=False)
