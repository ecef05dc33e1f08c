"""Build small test mails with the standard library (never hand-written MIME strings)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone


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
    msg["Date"] = format_datetime(date or datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))
    msg["Message-ID"] = f"<{message_id}>" if message_id else make_msgid(domain="customer.example")
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()
