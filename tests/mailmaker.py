"""Build small test mails with the standard library (never hand-written MIME strings)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid


def make_mail(
    *,
    subject: str = "Question about my order",
    sender: str = "Yamada Taro <taro@customer.example>",
    to: str = "support@example.jp",
    body: str = "Hello, where is my order?\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<{message_id}>" if message_id else make_msgid(domain="customer.example")
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)


def lmtp_send(
    host: str, port: int, sender: str, rcpts: list[str], data: bytes
) -> list[tuple[int, bytes]]:
    """Send over LMTP and return the reply for each recipient (smtplib reads only one)."""
    import smtplib

    with smtplib.LMTP(host, port) as peer:
        peer.ehlo()
        peer.mail(sender)
        replies: list[tuple[int, bytes]] = []
        accepted = []
        for rcpt in rcpts:
            code, msg = peer.rcpt(rcpt)
            if code == 250:
                accepted.append(rcpt)
            else:
                replies.append((code, msg))
        if not accepted:
            return replies
        code, msg = peer.docmd("DATA")
        if code != 354:
            return [*replies, (code, msg)]
        body = data if data.endswith(b"\r\n") else data + b"\r\n"
        peer.send(smtplib._quote_periods(body) + b".\r\n")
        replies += [peer.getreply() for _ in accepted]
    return replies
