"""What an outbound mail says, before it is stored: its sender, recipients, subject, body
with the mailbox's signature, place in the thread, and finally its bytes.

Reads only; ``actions`` stores what is composed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from html import escape

from django.contrib.auth.models import User
from django.utils import timezone

from madoguchi.accounts.models import Agent
from madoguchi.conversations.models import Conversation, Direction, Message
from madoguchi.conversations.queries import reply_source
from madoguchi.mail import Address
from madoguchi.mail import header_values as safe
from madoguchi.mail.compose import OutAttachment, Outgoing, build
from madoguchi.mailboxes.models import Mailbox

MAX_REFERENCES = 20
_PLACEHOLDER = re.compile(r"\{(agent|mailbox)\}")
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")

#: What marks a mail we send without a person (an acknowledgement, a rule's reply): RFC 3834
#: ``Auto-Submitted: auto-replied``, which every well-behaved responder leaves unanswered,
#: and Microsoft's ``X-Auto-Response-Suppress``, which keeps Exchange's out-of-office
#: replies from answering it.
AUTOMATIC_HEADERS = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]


@dataclass(frozen=True)
class Content:
    """What the agent wrote: plain text, optionally sanitized HTML, and files."""

    text: str
    html: str = ""
    attachments: list[OutAttachment] = field(default_factory=list)


@dataclass(frozen=True)
class Outbound:
    """A composed mail, not stored yet: the signature added, the thread named."""

    sender: Address
    to: list[Address]
    cc: list[Address]
    subject: str
    text: str
    html: str
    attachments: list[OutAttachment]
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    #: Headers beyond the composed ones (an automatic reply's ``AUTOMATIC_HEADERS``).
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recipients(self) -> list[str]:
        return [a.email for a in [*self.to, *self.cc]]


def fill_sender_format(template: str, agent: str, mailbox: str) -> str:
    """``{agent} ({mailbox})`` filled in one pass. Not ``str.format``: an admin's template
    with ``{agent:>999999999}`` would build a gigabyte, and a name that contains
    ``{mailbox}`` must not be filled in again."""
    values = {"agent": agent, "mailbox": mailbox}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template[:200])


def sender_for(mailbox: Mailbox, author: User) -> Address:
    """The From of mail ``author`` writes from ``mailbox``: "Sato (Support)" <support@…>."""
    agent = Agent.objects.filter(user=author).first()
    name = agent.name if agent else author.get_username()
    display = (
        fill_sender_format(mailbox.sender_format, name, mailbox.name) if mailbox.name else name
    )
    return Address(safe.one_line(display, limit=200), mailbox.address)


def compose(
    conv: Conversation,
    author: User,
    *,
    subject: str,
    to: list[Address],
    cc: list[Address],
    content: Content,
    in_reply_to: str = "",
    references: list[str] | None = None,
) -> Outbound:
    """The mail ``author`` sends from ``conv``'s mailbox, with the mailbox's signature."""
    signature = conv.mailbox.signature.strip()
    text = content.text.rstrip() + (f"\n\n{signature}\n" if signature else "\n")
    html = content.html
    if html and signature:
        html += "<p>" + escape(signature).replace("\n", "<br>") + "</p>"
    return Outbound(
        sender=sender_for(conv.mailbox, author),
        to=to,
        cc=cc,
        subject=safe.one_line(subject)[:998],
        text=text,
        html=html,
        attachments=content.attachments,
        in_reply_to=in_reply_to,
        references=references or [],
    )


def automatic_sender(mailbox: Mailbox) -> Address:
    """The From of mail nobody wrote: the mailbox's name and address."""
    return Address(safe.one_line(mailbox.name, limit=200), mailbox.address)


def compose_automatic(
    conv: Conversation,
    *,
    subject: str,
    to: list[Address],
    content: Content,
    answering: Message | None,
) -> Outbound:
    """An automatic reply to ``answering`` (an acknowledgement, a rule's template reply):
    from the mailbox itself, with its signature, in the thread, marked automatic."""
    signature = conv.mailbox.signature.strip()
    text = content.text.rstrip() + (f"\n\n{signature}\n" if signature else "\n")
    return Outbound(
        sender=automatic_sender(conv.mailbox),
        to=to,
        cc=[],
        subject=safe.one_line(subject)[:998],
        text=text,
        html="",
        attachments=content.attachments,
        in_reply_to=answering.message_id if answering else "",
        references=references(answering),
        headers=list(AUTOMATIC_HEADERS),
    )


def with_headers(data: bytes, headers: list[tuple[str, str]]) -> bytes:
    """``data`` (a composed mail, CRLF line ends) with ``headers`` added to its header block.

    Names must be plain header names and values are made one safe line
    (``header_values``): nothing added here can start a header or a body of its own.
    """
    if not headers:
        return data
    lines = b""
    for name, value in headers:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"not a header name: {name!r}")
        clean = safe.one_line(value, limit=200)
        if not clean.isascii():
            raise ValueError(f"{name}: only ASCII values are added here")
        lines += f"{name}: {clean}\r\n".encode("ascii")
    head, sep, body = data.partition(b"\r\n\r\n")
    return head + b"\r\n" + lines[:-2] + sep + body


def without_signature(text: str, mailbox: Mailbox) -> str:
    """``text`` as the agent typed it: the signature ``compose`` added taken off."""
    signature = mailbox.signature.strip()
    body = text.rstrip()
    if signature and body.endswith(signature):
        body = body[: -len(signature)]
    return body.rstrip()


def last_inbound(conv: Conversation) -> Message | None:
    return conv.messages.filter(direction=Direction.IN).order_by("-pk").first()


def reply_subject(conv: Conversation) -> str:
    subject = conv.subject
    return subject if subject.lower().startswith(("re:", "re：")) else f"Re: {subject}"


def reply_recipients(conv: Conversation, *, reply_all: bool) -> tuple[list[Address], list[Address]]:
    """To and Cc for a reply to the newest inbound mail of a participant (Reply-To wins
    over From): a newcomer's mail never picks them (``conversations.participants``)."""
    last = reply_source(conv)
    if last is None:
        return [], []
    to = [Address(n, e) for n, e in last.reply_to] or [Address(last.from_name, last.from_email)]
    if not reply_all:
        return to, []
    ours = {conv.mailbox.address.lower(), *(a.email.lower() for a in to)}
    cc = [Address(n, e) for n, e in [*last.to, *last.cc] if e.lower() not in ours]
    return to, list({a.email.lower(): a for a in cc}.values())


def references(last: Message | None) -> list[str]:
    """References of a reply to ``last``: its own chain (at most ``MAX_REFERENCES``), then it."""
    if last is None or not last.message_id:
        return []
    known = list(last.refs.order_by("pk").values_list("ref", flat=True))
    chain = [r for r in known if r != last.in_reply_to] + (
        [last.in_reply_to] if last.in_reply_to else []
    )
    return [*chain[-(MAX_REFERENCES - 1) :], last.message_id]


def forward_subject(conv: Conversation, source: Message) -> str:
    subject = source.subject or conv.subject
    return subject if subject.lower().startswith(("fwd:", "fw:")) else f"Fwd: {subject}"


def forward_text(text: str, source: Message) -> str:
    """What the agent wrote above ``source``, quoted under the usual forwarding header."""
    header = "\n".join(
        [
            "---------- Forwarded message ----------",
            f"From: {_named(source.from_name, source.from_email)}",
            f"Date: {format_datetime(source.date or source.received_at)}",
            f"Subject: {source.subject}",
            f"To: {', '.join(_named(n, e) for n, e in source.to)}",
        ]
    )
    return f"{text.rstrip()}\n\n{header}\n\n{source.text}"


def _named(name: str, email: str) -> str:
    return f"{name} <{email}>" if name else email


def mail_of(
    message: Message,
    *,
    references: list[str],
    attachments: list[OutAttachment],
    date: datetime | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """The bytes of an outbound message, from what the Message row holds (and ``headers``
    beyond the composed ones)."""
    data = build(
        Outgoing(
            sender=Address(message.from_name, message.from_email),
            to=[Address(n, e) for n, e in message.to],
            cc=[Address(n, e) for n, e in message.cc],
            subject=message.subject,
            text=message.text,
            message_id=message.message_id,
            date=date or message.date or timezone.now(),
            in_reply_to=message.in_reply_to or None,
            references=references,
            charset=message.mailbox.outbound_charset,
            html=message.html or None,
            attachments=attachments,
        )
    )
    return with_headers(data, headers or [])
