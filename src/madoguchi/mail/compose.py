"""Build outbound mail (RFC 5322) from plain values: pure, no Django.

UTF-8 by default. ISO-2022-JP (RFC 1468) for recipients whose mail programs need it,
including the Windows characters that Outlook and Becky! send (①, ㈱, ～): Python's
``iso2022_jp`` codec refuses them, so they are written through CP932 into JIS rows the way
those programs do (CP50220); half-width katakana become full-width, as ISO-2022-JP cannot
carry them. Text that even that cannot carry goes out as UTF-8.

Every value bound for a header goes through ``header_values`` first (``_safe``), in both
paths: nothing typed, received or unpacked from a winmail.dat can end a header line, and
every non-ASCII header is written as RFC 2047 encoded words or RFC 2231 parameters.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage, Message
from email.policy import SMTP, compat32
from email.utils import format_datetime, formataddr

from . import header_values as safe
from .types import Address

ESC_JIS, ESC_ASCII = b"\x1b$B", b"\x1b(B"


@dataclass(frozen=True)
class OutAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Outgoing:
    sender: Address
    to: list[Address]
    subject: str
    text: str
    message_id: str  # without <>
    date: datetime
    cc: list[Address] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    charset: str = "utf-8"  # or "iso-2022-jp"
    html: str | None = None  # already sanitized; sent as multipart/alternative with text
    attachments: list[OutAttachment] = field(default_factory=list)


def _sjis_to_jis(s1: int, s2: int) -> tuple[int, int]:
    base = 0x70 if s1 < 0xA0 else 0xB0
    if s2 < 0x9F:
        return (s1 - base) * 2 - 1, s2 - (0x1F if s2 < 0x7F else 0x20)
    return (s1 - base) * 2, s2 - 0x7E


def encode_iso2022jp(text: str) -> bytes:
    """ISO-2022-JP bytes for ``text``; raises UnicodeEncodeError if it cannot be carried."""
    out, jis = bytearray(), False
    for char in text:
        if ord(char) < 0x80:
            if jis:
                out += ESC_ASCII
                jis = False
            out.append(ord(char))
            continue
        # half-width katakana become full-width: ISO-2022-JP cannot carry them
        wide = unicodedata.normalize("NFKC", char) if 0xFF61 <= ord(char) <= 0xFF9F else char
        for piece in wide:
            sjis = piece.encode("cp932")  # raises for what CP932 lacks
            if len(sjis) != 2:
                raise UnicodeEncodeError("iso-2022-jp", piece, 0, 1, "not in JIS X 0208")
            if not jis:
                out += ESC_JIS
                jis = True
            out += bytes(_sjis_to_jis(sjis[0], sjis[1]))
    if jis:
        out += ESC_ASCII
    return bytes(out)


def can_iso2022jp(text: str) -> bool:
    try:
        encode_iso2022jp(text)
    except UnicodeEncodeError:
        return False
    return True


def _jis_words(text: str) -> str:
    """RFC 2047 B-encoded words, each a whole ISO-2022-JP run of at most ~15 characters."""
    words, chunk = [], ""
    for char in text:
        chunk += char
        if len(chunk) >= 15:
            words.append(chunk)
            chunk = ""
    if chunk:
        words.append(chunk)
    return " ".join(
        "=?ISO-2022-JP?B?" + base64.b64encode(encode_iso2022jp(w)).decode() + "?=" for w in words
    )


def _jis_address(addr: Address) -> str:
    if not addr.name or addr.name.isascii():
        return formataddr((addr.name, addr.email))
    return f"{_jis_words(addr.name)} <{addr.email}>"


def _common(msg: Message, mail: Outgoing) -> None:
    msg["Date"] = format_datetime(mail.date)
    msg["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        msg["References"] = " ".join(f"<{r}>" for r in mail.references)
    msg["MIME-Version"] = "1.0"


def _safe_address(addr: Address) -> Address:
    return Address(safe.one_line(addr.name, limit=200), safe.mail_address(addr.email))


def _safe_text(text: str) -> str:
    """Body text with CR LF line ends made LF and no lone surrogates (encodable)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


def _safe(mail: Outgoing) -> Outgoing:
    """``mail`` with every header value made one safe line; raises ``UnsafeAddress``."""
    return replace(
        mail,
        sender=_safe_address(mail.sender),
        to=[_safe_address(a) for a in mail.to],
        cc=[_safe_address(a) for a in mail.cc],
        subject=safe.one_line(mail.subject),
        text=_safe_text(mail.text),
        html=_safe_text(mail.html) if mail.html else None,
        message_id=safe.msg_id(mail.message_id),
        in_reply_to=safe.msg_id(mail.in_reply_to or "") or None,
        references=[r for r in map(safe.msg_id, mail.references) if r],
        attachments=[
            OutAttachment(safe.file_name(a.filename), safe.content_type(a.content_type), a.data)
            for a in mail.attachments
        ],
    )


def build(mail: Outgoing) -> bytes:
    """The mail's bytes, CRLF line ends, ready for SMTP.

    Raises ``header_values.UnsafeAddress`` for an address that is not a plain addr-spec;
    anything else is made safe, never refused.
    """
    mail = _safe(mail)
    jis = mail.charset.lower() == "iso-2022-jp" and can_iso2022jp(
        mail.text + mail.subject + mail.sender.name + "".join(a.name for a in mail.to + mail.cc)
    )
    if not jis:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = formataddr((mail.sender.name, mail.sender.email))
        msg["To"] = ", ".join(formataddr((a.name, a.email)) for a in mail.to)
        if mail.cc:
            msg["Cc"] = ", ".join(formataddr((a.name, a.email)) for a in mail.cc)
        msg["Subject"] = mail.subject
        _common(msg, mail)
        msg.set_content(mail.text)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
        for att in mail.attachments:
            maintype, _, subtype = att.content_type.partition("/")
            msg.add_attachment(
                att.data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=att.filename,
            )
        return msg.as_bytes()
    return _build_jis(mail)


def _jis_text(text: str, subtype: str) -> Message:
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="ISO-2022-JP"'
    part["Content-Transfer-Encoding"] = "7bit"
    body = text.replace("\r\n", "\n").replace("\n", "\r\n")
    part.set_payload(encode_iso2022jp(body).decode("ascii"))
    return part


def _jis_attachment(att: OutAttachment) -> Message:
    """A base64 part; a non-ASCII file name as RFC 2231 (UTF-8), which every current
    program reads, and as an ISO-2022-JP encoded word in ``name``, which older ones read."""
    part = Message()
    name = att.filename
    legacy = name if name.isascii() else (_jis_words(name) if can_iso2022jp(name) else "")
    part["Content-Type"] = att.content_type or "application/octet-stream"
    if legacy:
        part.set_param("name", legacy, header="Content-Type")
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-Disposition"] = "attachment"
    part.set_param(
        "filename",
        name if name.isascii() else ("utf-8", "", name),  # type: ignore[arg-type]
        header="Content-Disposition",
    )
    part.set_payload(base64.encodebytes(att.data).decode("ascii"))
    return part


def _build_jis(mail: Outgoing) -> bytes:
    body: Message = _jis_text(mail.text, "plain")
    if mail.html and can_iso2022jp(mail.html):
        alternative = Message()
        alternative["Content-Type"] = "multipart/alternative"
        alternative.attach(body)
        alternative.attach(_jis_text(mail.html, "html"))
        body = alternative
    if mail.attachments:
        mixed = Message()
        mixed["Content-Type"] = "multipart/mixed"
        mixed.attach(body)
        for att in mail.attachments:
            mixed.attach(_jis_attachment(att))
        body = mixed
    top = Message()
    top["From"] = _jis_address(mail.sender)
    top["To"] = ", ".join(_jis_address(a) for a in mail.to)
    if mail.cc:
        top["Cc"] = ", ".join(_jis_address(a) for a in mail.cc)
    top["Subject"] = mail.subject if mail.subject.isascii() else _jis_words(mail.subject)
    _common(top, mail)
    for name, value in body.items():
        top[name] = value
    top.set_payload(body.get_payload())
    return top.as_bytes(policy=compat32.clone(linesep="\r\n"))
