"""Generate the synthetic person-written mails in ``tests/mail/people`` (issue 9).

Every mail is one a customer or a colleague could write to a support address, and every one
uses the words automated mail uses (返品, 不在連絡票, 配送エラー, 自動返信, "undeliverable",
"out of office", "mailer-daemon", "unsubscribe", ...) in its subject or body: it asks about a
delivery, pastes or forwards a bounce, or replies to an auto-reply or an out-of-office notice.
None carries structural evidence of automation (an RFC 3464 / RFC 8098 report at the top level,
a null envelope sender, ``Auto-Submitted``, ``X-Autoreply``, ``Precedence``, ``List-*``), so a
classifier that follows docs/mail/classification.md must call each of them ``normal``.

Header shapes follow what the real programs write: Gmail, Outlook (Exchange Online and the
classic desktop program, including ``X-MS-Exchange-*``, ``Thread-Index`` and, on some mails,
``X-Auto-Response-Suppress: All``), iPhone Mail, Thunderbird, Becky!, Yahoo! Mail and the
Japanese carriers (docomo, au, SoftBank).  Bodies are UTF-8 (base64, quoted-printable, 8bit),
ISO-2022-JP as Windows writes it (CP50220, with ①, ㈱ and other NEC row-13 characters),
Shift_JIS, ISO-8859-1 and US-ASCII.  Every address, name, order and host inside the mails is
made up; client IP addresses come from the documentation ranges (RFC 5737, RFC 3849).

The output is deterministic: the same code writes the same bytes.  Regenerate with::

    .venv/bin/python tests/mail/people/make_people.py            # writes next to this file
    .venv/bin/python tests/mail/people/make_people.py /tmp/out   # or into another folder

or call :func:`build` (name -> bytes, in memory) or :func:`write` from a test.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import quopri
import random
import re
import struct
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
SEED = "madoguchi-people-v1"
#: How many mails of each language the corpus holds.
PLAN: tuple[tuple[str, int], ...] = (("ja", 132), ("en", 116), ("de", 6), ("fr", 6), ("es", 6))

JST = timezone(timedelta(hours=9), "JST")
ZONES = {
    "ja": (JST,),
    "en": (
        timezone(timedelta(hours=-4), "EDT"),
        timezone(timedelta(hours=-7), "PDT"),
        timezone(timedelta(hours=1), "BST"),
    ),
    "de": (timezone(timedelta(hours=2), "CEST"),),
    "fr": (timezone(timedelta(hours=2), "CEST"),),
    "es": (timezone(timedelta(hours=2), "CEST"),),
}
BASE_DATE = datetime(2024, 6, 3, 9, 0, tzinfo=JST)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_LONG = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
YOUBI = "月火水木金土日"
IDEO_SPACE = "\u3000"


# --------------------------------------------------------------------------- encodings


def _sjis_to_jis(lead: int, trail: int) -> bytes:
    """Convert one double-byte Shift_JIS (CP932) character to its JIS X 0208 byte pair."""
    row = (lead - (0x70 if lead < 0xA0 else 0xB0)) * 2
    if trail < 0x9F:
        row -= 1
        col = trail - (0x1F if trail < 0x7F else 0x20)
    else:
        col = trail - 0x7E
    if not (0x21 <= row <= 0x7E and 0x21 <= col <= 0x7E):
        raise ValueError(f"Shift_JIS {lead:02X}{trail:02X} has no JIS X 0208 form")
    return bytes((row, col))


def to_jis(text: str) -> bytes:
    """Encode as ISO-2022-JP the way Windows does (CP50220: NEC row 13 such as ① ㈱ allowed)."""
    out = bytearray()
    kanji = False
    for ch in text:
        if ord(ch) < 0x80:
            if kanji:
                out += b"\x1b(B"
                kanji = False
            out += ch.encode("ascii")
            continue
        sjis = ch.encode("cp932")
        if len(sjis) != 2:
            raise ValueError(f"{ch!r} is not a JIS X 0208 character")
        if not kanji:
            out += b"\x1b$B"
            kanji = True
        out += _sjis_to_jis(sjis[0], sjis[1])
    if kanji:
        out += b"\x1b(B"
    return bytes(out)


def encode_text(text: str, charset: str) -> bytes:
    """Encode text in a MIME charset (iso-2022-jp as CP50220, shift_jis as CP932)."""
    name = charset.lower()
    if name == "iso-2022-jp":
        return to_jis(text)
    if name == "shift_jis":
        return text.encode("cp932")
    return text.encode(name)


def _q_payload(data: bytes) -> str:
    """The RFC 2047 'Q' form of some bytes."""
    out = []
    for byte in data:
        ch = chr(byte)
        if byte == 0x20:
            out.append("_")
        elif ch.isascii() and (ch.isalnum() or ch in "!*+-/"):
            out.append(ch)
        else:
            out.append(f"={byte:02X}")
    return "".join(out)


def _word(text: str, charset: str, mode: str, label: str) -> str:
    """One RFC 2047 encoded word."""
    data = encode_text(text, charset)
    payload = base64.b64encode(data).decode("ascii") if mode == "B" else _q_payload(data)
    return f"=?{label}?{mode}?{payload}?="


def encoded_words(text: str, charset: str, mode: str = "B", label: str | None = None) -> list[str]:
    """Split text into RFC 2047 encoded words of at most 75 characters, never inside a char."""
    label = label or charset
    words: list[str] = []
    chunk = ""
    for ch in text:
        if chunk and len(_word(chunk + ch, charset, mode, label)) > 75:
            words.append(_word(chunk, charset, mode, label))
            chunk = ch
        else:
            chunk += ch
    if chunk:
        words.append(_word(chunk, charset, mode, label))
    return words


@dataclass(frozen=True)
class HeaderStyle:
    """How a mail program writes non-ASCII header text."""

    charset: str
    label: str
    mode: str = "B"
    fold: str = "\n "


def htext(text: str, style: HeaderStyle) -> str:
    """A header value: ASCII as is, anything else as folded encoded words."""
    if text.isascii():
        return text
    return style.fold.join(encoded_words(text, style.charset, style.mode, style.label))


def haddr(name: str, email: str, style: HeaderStyle, quote_ascii: bool = False) -> str:
    """A mailbox for From/To: ``name <email>`` with the name encoded as the program does."""
    if not name:
        return email
    if not name.isascii():
        return f"{htext(name, style)} <{email}>"
    if quote_ascii or re.search(r'[()<>\[\]:;@\\,."]', name):
        return f'"{name}" <{email}>'
    return f"{name} <{email}>"


def transfer(data: bytes, cte: str) -> bytes:
    """Apply a Content-Transfer-Encoding to body bytes written with LF line ends."""
    if cte == "base64":
        encoded = base64.b64encode(data).decode("ascii")
        return "".join(encoded[i : i + 76] + "\n" for i in range(0, len(encoded), 76)).encode()
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data if data.endswith(b"\n") else data + b"\n"


def rfc_date(when: datetime, pad: bool = False, zone_comment: bool = False) -> str:
    """An RFC 5322 date such as ``Tue, 4 Jun 2024 10:15:03 +0900``."""
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    day = f"{when.day:02d}" if pad else str(when.day)
    text = (
        f"{DAYS[when.weekday()]}, {day} {MONTHS[when.month - 1]} {when.year} {when:%H:%M:%S} {zone}"
    )
    if zone_comment:
        text += f" ({when.tzname()})"
    return text


def received_date(when: datetime) -> str:
    """The date as Postfix writes it in Received (day padded with a space)."""
    text = rfc_date(when, zone_comment=True)
    return text.replace(", ", ",  ", 1) if when.day < 10 else text


# --------------------------------------------------------------------------- binary files

_JPEG_TAIL = bytes.fromhex(
    "ffdb004300030202020202030202020303030304060404040404080606050609080a0a090809090a0c0f0c0a"
    "0b0e0b09090d110d0e0f101011100a0c12131210130f101010ffc9000b080001000101011100ffcc00060010"
    "1005ffda0008010100003f00d2cf20ffd9"
)


def jpeg(rng: random.Random, note: str) -> bytes:
    """A small valid baseline JPEG (1x1) padded with a comment segment, like a phone photo."""
    app0 = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00"
    size = rng.randrange(2500, 6500)
    filler = note.encode() + b"\x00" + rng.randbytes(size)
    comments = b""
    for start in range(0, len(filler), 60000):
        chunk = filler[start : start + 60000]
        comments += b"\xff\xfe" + struct.pack(">H", len(chunk) + 2) + chunk
    return app0 + comments + _JPEG_TAIL


def png(rng: random.Random, width: int = 48, height: int = 32) -> bytes:
    """A small valid grey PNG, like a cropped screenshot."""
    rows = b"".join(
        b"\x00" + bytes(min(255, 200 + (x * y) % 40 + rng.randrange(8)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def pdf(title: str) -> bytes:
    """A one-page valid PDF whose page shows an ASCII title."""
    safe = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --------------------------------------------------------------------------- people and shops


@dataclass(frozen=True)
class Shop:
    """A support address the mails are sent to."""

    name: str
    email: str
    agent: str

    @property
    def domain(self) -> str:
        """The shop's mail domain."""
        return self.email.rpartition("@")[2]


SHOPS = {
    "ja": (
        Shop("窓口ストア", "support@madoguchi.example", "佐々木"),
        Shop("はなみずき商店", "info@shop-hanamizuki.example", "石井"),
    ),
    "en": (
        Shop("Northwind Outfitters", "help@northwind-outfitters.example", "Dana"),
        Shop("Lumen Goods", "support@lumen-goods.example", "Priya"),
        Shop("Madoguchi Store", "support@madoguchi.example", "Tom"),
    ),
}
SHOPS["de"] = SHOPS["fr"] = SHOPS["es"] = SHOPS["en"][:2]

JA_FAMILY = (
    ("山田", "yamada"),
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("斎藤", "saito"),
    ("清水", "shimizu"),
)
JA_GIVEN = (
    ("花子", "hanako"),
    ("太郎", "taro"),
    ("美咲", "misaki"),
    ("健太", "kenta"),
    ("由美", "yumi"),
    ("翔", "sho"),
    ("陽子", "yoko"),
    ("大輔", "daisuke"),
    ("真理", "mari"),
    ("拓也", "takuya"),
    ("恵", "megumi"),
    ("直樹", "naoki"),
)
JA_COMPANIES = (
    ("㈱山田商事", "yamada-shoji"),
    ("㈲佐藤工務店", "sato-koumuten"),
    ("株式会社ひまわり物産", "himawari-bussan"),
    ("㈱みどり電機", "midori-denki"),
    ("合同会社ことり舎", "kotorisha"),
    ("株式会社ＡＢＣトレーディング", "abc-trading"),
)
JA_DEPTS = ("総務部", "営業部", "購買課", "情報システム部", "経理部")
LATIN_NAMES = {
    "en": (
        ("Emily", "Carter"),
        ("James", "Nguyen"),
        ("Olivia", "Patel"),
        ("Daniel", "O'Brien"),
        ("Sophia", "Walker"),
        ("Michael", "Kim"),
        ("Hannah", "Brooks"),
        ("Ryan", "Johansson"),
        ("Grace", "Rossi"),
        ("Lucas", "Bennett"),
        ("Chloe", "Reyes"),
        ("Noah", "Fischer"),
    ),
    "de": (("Jürgen", "Weiß"), ("Anna", "Müller"), ("Lena", "Schröder"), ("Tobias", "Becker")),
    "fr": (("Céline", "Dubois"), ("François", "Lefèvre"), ("Amélie", "Girard"), ("Hugo", "Roux")),
    "es": (("José", "Martínez"), ("Lucía", "Fernández"), ("Álvaro", "Gómez"), ("Marta", "Ruiz")),
}
EN_COMPANIES = ("Brightside Dental", "Harbor & Vine", "Keystone Labs", "Fieldnote Studio")
ITEMS = {
    "ja": (
        "ワンピース（Mサイズ）",
        "加湿器",
        "ステンレスボトル",
        "革のキーケース",
        "文庫本3冊セット",
    ),
    "en": ("running shoes (size 10)", "a desk lamp", "two ceramic mugs", "a wool scarf"),
}


def ascii_fold(text: str) -> str:
    """Letters without accents, for building e-mail local parts."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


# --------------------------------------------------------------------------- bounce texts


@dataclass(frozen=True)
class Bounce:
    """A non-delivery report a person received and now quotes, forwards or pastes."""

    key: str
    sender: str
    subject: str
    text: str


_GMAIL_EN = """\
** Address not found **

Your message wasn't delivered to {bad_addr} because the address couldn't be found, or is \
unable to receive mail.

Learn more here: https://support.google.com/mail/?p=NoSuchUser

The response from the remote server was:
550 5.1.1 <{bad_addr}>: Recipient address rejected: User unknown in virtual mailbox table

----- Original message -----

Message-ID: <{orig_id}>
Date: {orig_date}
Subject: {orig}
From: {me_email}
To: {bad_addr}"""

_GMAIL_JA = """\
** アドレスが見つかりません **

{bad_addr} にメールを配信できませんでした。このアドレスが見つからないか、メールを受信できない\
アドレスです。

詳細: https://support.google.com/mail/?p=NoSuchUser

リモート サーバーから次の応答がありました:
550 5.1.1 <{bad_addr}>: Recipient address rejected: User unknown

----- Original message -----

Message-ID: <{orig_id}>
Subject: {orig}"""

_POSTFIX = """\
This is the mail system at host {mta}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{bad_addr}>: host {rmta}[192.0.2.25] said: 550 5.1.1
    <{bad_addr}>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)"""

_EXCH_EN = """\
Your message to {bad_addr} couldn't be delivered.
{bad_user} wasn't found at {bad_domain}.

Action Required
Unknown To address

How to Fix It
The address may be misspelled or may not exist. Try one or more of the following:
  - Retype the recipient's address, then resend the message.

More Info for Email Admins
Status code: 550 5.1.10

Original Message Details
Created Date:    {orig_date}
Sender Address:    {me_email}
Recipient Address:    {bad_addr}
Subject:    {orig}

Error Details
Reported error:    550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP \
address lookup
DSN generated by:    {exch_server}

Original Message Headers

Received: from {exch_server} by {exch_server} with mapi id 15.20.7633.021; {orig_date}
Message-ID: <{orig_id}>
Content-Type: text/plain; charset="us-ascii"
MIME-Version: 1.0"""

_EXCH_EN_OLD = """\
Delivery has failed to these recipients or groups:

{bad_addr}
The email address you entered couldn't be found. Please check the recipient's email address \
and try to resend the message. If the problem continues, please contact your helpdesk.

Diagnostic information for administrators:

Generating server: {exch_server}

{bad_addr}
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

Original message headers:

Return-Path: <{me_email}>
Message-ID: <{orig_id}>
Subject: {orig}"""

_EXCH_JA = """\
{bad_addr} へのメッセージを配信できませんでした。
{bad_domain} で {bad_user} が見つかりませんでした。

対処方法
アドレスのスペルが間違っているか、アドレスが存在しない可能性があります。

電子メール管理者向けの詳細情報
状態コード: 550 5.1.10

元のメッセージの詳細
作成日:    {orig_date}
送信者アドレス:    {me_email}
受信者アドレス:    {bad_addr}
件名:    {orig}

エラーの詳細
報告されたエラー:    550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP \
address lookup
DSN 生成元:    {exch_server}

元のメッセージ ヘッダー

Message-ID: <{orig_id}>"""

_EXCH_JA_OLD = """\
配信できませんでした: 次の受信者またはグループへの配信に失敗しました:

{bad_addr}
入力した電子メール アドレスが見つかりませんでした。受信者の電子メール アドレスを確認して、\
メッセージを再送信してください。

管理者向けの診断情報:

生成元サーバー: {exch_server}

{bad_addr}
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'"""

_EXIM = """\
This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {bad_addr}
    host {rmta} [192.0.2.25]
    SMTP error from remote mail server after RCPT TO:<{bad_addr}>:
    550 5.1.1 <{bad_addr}>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

Return-path: <{me_email}>
Message-ID: <{orig_id}>
Subject: {orig}"""

_QMAIL = """\
Hi. This is the qmail-send program at {mta}.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{bad_addr}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <{me_email}>
Message-ID: <{orig_id}>
Subject: {orig}"""

_SENDMAIL = """\
The original message was received at {orig_date}
from localhost [127.0.0.1]

   ----- The following addresses had permanent fatal errors -----
<{bad_addr}>
    (reason: 550 5.1.1 <{bad_addr}>... User unknown)

   ----- Transcript of session follows -----
... while talking to {rmta}.:
>>> DATA
<<< 550 5.1.1 <{bad_addr}>... User unknown
550 5.1.1 <{bad_addr}>... User unknown"""

_JP_ISP = """\
お客様が送信されたメールは、宛先不明のため配信できませんでした。
メールアドレスをご確認のうえ、再度送信してください。

宛先: {bad_addr}
理由: 550 5.1.1 User unknown

----- 元のメッセージ -----
Message-ID: <{orig_id}>
件名: {orig}"""

_EZWEB = """\
This Message was undeliverable due to the following reason:

<{bad_addr}> is not a valid mailbox

Please reply to Postmaster@ezweb.ne.jp
if you feel this message to be in error."""

_EXCH_DE = """\
Ihre Nachricht an {bad_addr} konnte nicht übermittelt werden.
{bad_user} wurde bei {bad_domain} nicht gefunden.

So beheben Sie das Problem
Die Adresse ist möglicherweise falsch geschrieben oder existiert nicht.

Weitere Informationen für E-Mail-Administratoren
Statuscode: 550 5.1.10

Fehlerdetails
Gemeldeter Fehler:    550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP \
address lookup
DSN generiert von:    {exch_server}"""

_EXCH_FR = """\
Votre message à {bad_addr} n'a pas pu être remis.
{bad_user} est introuvable sur {bad_domain}.

Comment résoudre le problème
L'adresse est peut-être mal orthographiée ou n'existe pas.

Plus d'informations pour les administrateurs de messagerie
Code d'état : 550 5.1.10

Détails de l'erreur
Erreur signalée :    550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP \
address lookup
DSN généré par :    {exch_server}"""

_EXCH_ES = """\
Su mensaje para {bad_addr} no se pudo entregar.
No se encontró a {bad_user} en {bad_domain}.

Cómo solucionarlo
Es posible que la dirección esté mal escrita o que no exista.

Más información para los administradores de correo electrónico
Código de estado: 550 5.1.10

Detalles del error
Error notificado:    550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP \
address lookup
DSN generado por:    {exch_server}"""

_MS_SENDER = "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@{tenant}>"
BOUNCES = {
    "gmail_en": Bounce(
        "gmail_en",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        _GMAIL_EN,
    ),
    "gmail_ja": Bounce(
        "gmail_ja",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        _GMAIL_JA,
    ),
    "postfix": Bounce(
        "postfix",
        "Mail Delivery System <MAILER-DAEMON@{mta}>",
        "Undelivered Mail Returned to Sender",
        _POSTFIX,
    ),
    "exch_en": Bounce("exch_en", _MS_SENDER, "Undeliverable: {orig}", _EXCH_EN),
    "exch_en_old": Bounce(
        "exch_en_old",
        "Microsoft Outlook <postmaster@{tenant}>",
        "Undeliverable: {orig}",
        _EXCH_EN_OLD,
    ),
    "exch_ja": Bounce("exch_ja", _MS_SENDER, "配信不能: {orig}", _EXCH_JA),
    "exch_ja_old": Bounce(
        "exch_ja_old", "Microsoft Outlook <postmaster@{tenant}>", "配信不能: {orig}", _EXCH_JA_OLD
    ),
    "exim": Bounce(
        "exim",
        "Mail Delivery System <Mailer-Daemon@{mta}>",
        "Mail delivery failed: returning message to sender",
        _EXIM,
    ),
    "qmail": Bounce("qmail", "MAILER-DAEMON@{mta}", "failure notice", _QMAIL),
    "sendmail": Bounce(
        "sendmail",
        "Mail Delivery Subsystem <MAILER-DAEMON@{mta}>",
        "Returned mail: see transcript for details",
        _SENDMAIL,
    ),
    "jp_isp": Bounce(
        "jp_isp",
        "Mail Delivery System <MAILER-DAEMON@{mta}>",
        "配信エラー：宛先不明のためメールを配信できませんでした",
        _JP_ISP,
    ),
    "ezweb": Bounce("ezweb", "Postmaster@ezweb.ne.jp", "Mail System Error - Returned Mail", _EZWEB),
    "exch_de": Bounce("exch_de", _MS_SENDER, "Unzustellbar: {orig}", _EXCH_DE),
    "exch_fr": Bounce("exch_fr", _MS_SENDER, "Non remis : {orig}", _EXCH_FR),
    "exch_es": Bounce("exch_es", _MS_SENDER, "No se puede entregar: {orig}", _EXCH_ES),
}
#: Bounces a person of each language gets from a provider that is not Gmail or Exchange.
OTHER_BOUNCES = {
    "ja": ("postfix", "jp_isp", "qmail", "ezweb"),
    "en": ("postfix", "exim", "qmail", "sendmail"),
    "de": ("exim", "postfix"),
    "fr": ("postfix", "exim"),
    "es": ("postfix", "exim"),
}
#: Subjects of the mails that bounced.
ORIG_SUBJECTS = {
    "ja": (
        "見積もりのご依頼",
        "注文内容の変更について",
        "お問い合わせ（注文番号{order}）",
        "Re: ご返信",
    ),
    "en": (
        "Quote request",
        "Question about order {order_short}",
        "Invoice {invoice}",
        "Re: refund",
    ),
    "de": ("Angebot {quote}", "Frage zur Bestellung {order_short}"),
    "fr": ("Devis {quote}", "Question sur la commande {order_short}"),
    "es": ("Presupuesto {quote}", "Pregunta sobre el pedido {order_short}"),
}

# --------------------------------------------------------------------------- auto-replies quoted

OOO = {
    "ja": (
        "自動応答: {orig}",
        "誠に勝手ながら、{date_md2}まで不在にしております。\n"
        "不在中にいただいたメールは、戻り次第確認いたします。\n"
        "急ぎのご用件は{colleague}までご連絡ください。\n\n※本メールは自動送信されています。",
    ),
    "en": (
        "Automatic reply: {orig}",
        "Thank you for your email. I am out of the office until {date_en2} with limited "
        "access to email.\nFor urgent matters please contact {colleague_email}.",
    ),
    "de": (
        "Automatische Antwort: {orig}",
        "Vielen Dank für Ihre Nachricht. Ich bin bis {date_de2} nicht im Büro und habe "
        "keinen Zugriff auf meine E-Mails.",
    ),
    "fr": (
        "Réponse automatique : {orig}",
        "Merci pour votre message. Je suis absente jusqu'au {date_fr2} avec un accès limité "
        "à mes e-mails.",
    ),
    "es": (
        "Respuesta automática: {orig}",
        "Gracias por su mensaje. Estoy fuera de la oficina hasta el {date_es2} con acceso "
        "limitado al correo.",
    ),
}
OUR_AUTO_REPLY = {
    "ja": (
        "【自動返信】お問い合わせを受け付けました",
        "※このメールは自動送信されています。このメールに返信いただいてもお答えできません。\n\n"
        "{me_full} 様\n\nお問い合わせいただきありがとうございます。\n以下の内容で受け付けました。"
        "\n\n受付番号：{ticket}\n\n2営業日以内に担当者よりご連絡いたします。\n\n{shop}",
    ),
    "en": (
        "[Auto-Reply] We received your request #{ticket}",
        "This is an automated message - please do not reply.\n\nHi {me_first},\n\n"
        "Thanks for contacting {shop}! Your request #{ticket} has been received and a member "
        "of our team will get back to you within 2 business days.\n\n{shop} Customer Care",
    ),
    "de": (
        "Automatische Antwort: Ihre Anfrage #{ticket}",
        "Dies ist eine automatisch erstellte Nachricht.\n\nVielen Dank für Ihre Anfrage "
        "#{ticket}. Wir melden uns innerhalb von zwei Werktagen.\n\n{shop}",
    ),
    "fr": (
        "Réponse automatique : nous avons bien reçu votre demande n°{ticket}",
        "Ceci est une réponse automatique, merci de ne pas y répondre.\n\nVotre demande "
        "n°{ticket} a bien été reçue. Nous vous répondrons sous deux jours ouvrés.\n\n{shop}",
    ),
    "es": (
        "Respuesta automática: hemos recibido su solicitud #{ticket}",
        "Este es un mensaje automático, por favor no responda.\n\nHemos recibido su "
        "solicitud #{ticket} y le responderemos en un plazo de dos días laborables.\n\n{shop}",
    ),
}
AGENT_REPLY = {
    "ja": "{me_family}様\n\nお問い合わせいただきありがとうございます。\n"
    "{shop}の{agent}でございます。\n\n"
    "お問い合わせの件、担当部署に確認いたしますので、少々お待ちください。\n\n{shop}\n{agent}",
    "en": "Hi {me_first},\n\nThanks for getting in touch. I'm looking into this now and will "
    "update you shortly.\n\nBest,\n{agent}\n{shop} Customer Care",
}
AGENT_REPLY["de"] = AGENT_REPLY["fr"] = AGENT_REPLY["es"] = AGENT_REPLY["en"]

# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """One reason a person writes: subject and paragraph variants in one language."""

    key: str
    lang: str
    subjects: tuple[str, ...]
    paragraphs: tuple[str, ...]
    #: How the mail is built: new, thread, fwd_bounce, fwd_attach, fwd_parts, paste_ndr,
    #: paste_raw, reply_auto, reply_ooo (one per visit, in turn).
    wraps: tuple[str, ...] = ("new",)
    #: Attachments that fit, as ``kind:basename`` (kind is photo, screenshot or pdf).
    attach: tuple[str, ...] = ()
    colleague: bool = False
    #: The sender writes from a ``postmaster@`` mailbox of their own company (an IT admin).
    postmaster: bool = False
    clients: tuple[str, ...] = ()


JA_SCENARIOS = (
    Scenario(
        "henpin",
        "ja",
        (
            "返品の返送先を教えてください",
            "返品・返送の手続きについて（注文番号{order}）",
            "返送した商品は届いていますか",
            "返品したいのですが返送先が分かりません",
        ),
        (
            "{date_md}に届いた{item}ですが、サイズが合わなかったため返品を希望します。\n"
            "返送先の住所と、返送の送料はどちらの負担になるか教えていただけますか。",
            "商品ページには「到着後7日以内であれば返品可」とありましたが、返送方法の説明が"
            "見つかりませんでした。\n着払いで返送してもよろしいでしょうか。",
            "先週、ご案内いただいた住所宛てに返送しました。追跡番号は{tracking}です。\n"
            "返品の処理状況を教えてください。",
        ),
        wraps=("new", "thread", "new"),
        attach=("photo:商品の写真",),
    ),
    Scenario(
        "fuzai-renrakuhyo",
        "ja",
        (
            "不在連絡票が入っていました",
            "不在票が入っていたのですが再配達はどうすればいいですか",
            "不在のため荷物を受け取れませんでした",
            "【注文番号{order}】不在連絡票について",
            "不在連絡票の件",
        ),
        (
            "本日帰宅したら、ポストに不在連絡票が入っていました。\n"
            "差出人が{shop}になっていたのですが、注文した{item}でしょうか。",
            "不在連絡票の写真を添付します。お問い合わせ番号がかすれて読めないので、"
            "再配達の手配をお願いできますか。",
            "平日の日中は不在にしていることが多いので、土曜日の午前中に再配達していただけると"
            "助かります。",
            "不在連絡票には「保管期限：{date_md2}」と書かれています。それまでに受け取れるでしょうか。",
        ),
        wraps=("new", "new", "thread"),
        attach=("photo:不在連絡票",),
    ),
    Scenario(
        "haiso-error",
        "ja",
        (
            "配送エラーと表示されます",
            "注文履歴に「配送エラー」と出ています",
            "配送エラーの件（注文番号{order}）",
            "配送エラーになった注文の再発送について",
        ),
        (
            "マイページの注文履歴を見ると、{order}の注文が「配送エラー」と表示されています。\n"
            "住所は間違っていないと思うのですが、何が原因でしょうか。",
            "配送業者の追跡ページでも「配送エラー（宛先不明）」となっていました。\n"
            "建物名を省略して入力してしまったかもしれません。正しくは「{addr_line}」です。",
            "配送エラーになった商品は、再発送していただけるのでしょうか。"
            "それとも注文し直す必要がありますか。",
        ),
        wraps=("new", "thread"),
        attach=("screenshot:配送エラー",),
    ),
    Scenario(
        "haishin-error",
        "ja",
        (
            "御社宛てのメールが不達になります",
            "メールが配信エラーで戻ってきます",
            "配信エラーのメールが返ってきました",
            "{support_email}宛のメールが届きませんでした",
        ),
        (
            "昨日から{support_email}宛てにお送りしたメールが、配信エラーで戻ってきてしまいます。\n"
            "エラーメールには「550 5.1.1 User unknown」と書かれていました。",
            "こちらのサーバー管理者に確認したところ、不達の原因は受信側にあるのではないか"
            "とのことでした。\nお手数ですがご確認いただけますでしょうか。",
            "同じ内容を{bad_addr}にも送りましたが、こちらも宛先不明で戻ってきました。",
        ),
        wraps=("paste_ndr", "fwd_bounce", "fwd_attach", "new"),
    ),
    Scenario(
        "atesaki-fumei",
        "ja",
        (
            "宛先不明で戻ってきました",
            "担当者様のアドレスが宛先不明になります",
            "宛先不明のエラーメールについて",
        ),
        (
            "営業部の{colleague}様宛てにお送りしたメールが、宛先不明で戻ってきました。\n"
            "アドレスが変わられたのでしょうか。",
            "MAILER-DAEMONというところから英語のメールが届き、「宛先不明」と書かれていました。\n"
            "迷惑メールかと思ったのですが、念のためご連絡します。",
            "エラーメールの差出人は「Mail Delivery Subsystem」となっていました。",
        ),
        wraps=("fwd_bounce", "new", "paste_ndr", "fwd_parts"),
    ),
    Scenario(
        "soushin-dekinai",
        "ja",
        (
            "問い合わせフォームから送信できません",
            "フォームで「送信できません」と表示されます",
            "メールが送信できません",
            "送信できませんとエラーが出ます",
        ),
        (
            "お問い合わせフォームに入力して送信ボタンを押すと、「送信できませんでした。"
            "時間をおいて再度お試しください」と表示されます。\n何度か試しましたが同じでした。",
            "スマートフォンからも試しましたが、やはり送信できません。"
            "仕方がないのでメールでお問い合わせします。",
            "問い合わせ内容は、{order}の注文の配送先変更です。\n①配送先を実家に変更したい\n"
            "②配送日を{date_md2}以降にしてほしい\nの2点です。",
        ),
        attach=("screenshot:エラー画面",),
    ),
    Scenario(
        "kakunin-mail",
        "ja",
        (
            "確認メールが届いていません",
            "注文確認メールが届きませんでした",
            "会員登録の確認メールが届かない",
            "パスワード再設定のメールが届きません",
        ),
        (
            "{date_md}に注文した{order}ですが、注文確認メールが届いていません。\n"
            "迷惑メールフォルダも確認しましたが、見当たりませんでした。",
            "注文自体は完了しているのでしょうか。確認メールが届かないので不安です。",
            "携帯のキャリアメールを使っているので、ドメイン指定受信の設定が必要でしょうか。",
            "再送信ボタンを3回押しましたが、確認メールは届きませんでした。",
        ),
        wraps=("new", "new", "thread"),
    ),
    Scenario(
        "jidou-henshin",
        "ja",
        (
            "自動返信が来ないのですが",
            "自動返信メールが届きません",
            "自動返信の内容について質問です",
            "問い合わせ後の自動送信メールについて",
            "自動応答メッセージの件",
        ),
        (
            "昨日お問い合わせフォームから質問を送りましたが、自動返信が来ません。\n"
            "きちんと送信できているか確認していただけますか。",
            "自動返信メールに「2営業日以内に回答します」とありましたが、まだご連絡がありません。",
            "自動送信されたメールの本文が文字化けしていて読めませんでした。\n"
            "お手数ですが、内容をもう一度送っていただけますか。",
            "お電話の自動応答で「メールでお問い合わせください」と案内されたので、"
            "こちらに連絡しました。",
        ),
    ),
    Scenario(
        "error-tsuchi",
        "ja",
        (
            "エラー通知が何度も届きます",
            "「エラー通知」というメールは御社からですか？",
            "エラー通知メールの件",
            "決済エラー通知が届きました",
        ),
        (
            "数日前から「【エラー通知】決済処理に失敗しました」という件名のメールが何度も"
            "届いています。\n御社からのものでしょうか。フィッシングではないか心配です。",
            "エラー通知に記載されたURLはまだクリックしていません。",
            "カード会社に確認したところ、決済は正常に完了しているとのことでした。",
        ),
        attach=("screenshot:エラー通知",),
    ),
    Scenario(
        "haishin-teishi",
        "ja",
        (
            "メルマガの配信停止をお願いします",
            "配信停止したのにメルマガが届きます",
            "メルマガ配信停止の手続きができません",
            "配信停止のお願い",
        ),
        (
            "メルマガの配信停止をお願いします。\n配信停止のリンクを押しても"
            "「エラーが発生しました」と表示されてしまいます。",
            "先月配信停止の手続きをしたのですが、今週もメルマガが届きました。"
            "登録アドレスは{me_email}です。",
            "会員登録は続けたいので、メルマガだけ止めていただければ結構です。",
        ),
    ),
    Scenario(
        "fuzai-kyuka",
        "ja",
        (
            "来週不在にします（出荷の件）",
            "不在中の対応について",
            "【共有】{date_md}から不在のため引き継ぎです",
            "不在期間中の問い合わせ対応のお願い",
        ),
        (
            "{date_md}から{days}日間、出張のため不在にします。\n"
            "不在中の問い合わせは{colleague}さんに引き継いでいます。",
            "不在期間中はメールの確認が遅れます。自動返信は設定していないので、"
            "急ぎの件は携帯に連絡してください。",
            "返品の返送待ちが3件あります。届いたら検品だけお願いします。",
        ),
        colleague=True,
        clients=("outlook365", "outlook", "thunderbird", "gmail"),
    ),
    Scenario(
        "tenso-error",
        "ja",
        ("",),
        (
            "お客様に送った返信メールがエラーで戻ってきました。\n"
            "アドレスの誤りかどうか、注文情報と照合していただけますか。",
            "下記のエラーメールが届いています。送信先は{bad_addr}です。",
            "配信エラーが続くようなら、お電話で連絡しようと思います。",
        ),
        wraps=("fwd_bounce", "fwd_attach", "fwd_parts", "fwd_bounce"),
        colleague=True,
        clients=("outlook365", "outlook", "thunderbird", "gmail"),
    ),
    Scenario(
        "jidou-henshin-ni-henshin",
        "ja",
        ("",),
        (
            "自動返信メールに返信してしまってすみません。\n書き忘れたのですが、注文番号は{order}です。",
            "自動送信のメールには返信できないと書いてありましたが、ほかに連絡方法が"
            "分からなかったのでこちらに送ります。",
            "写真を追加で送ります。よろしくお願いします。",
        ),
        wraps=("reply_auto",),
        attach=("photo:商品の写真",),
    ),
    Scenario(
        "jidou-outou-ni-henshin",
        "ja",
        ("",),
        (
            "自動応答のメールが届きましたが、急ぎの件ですので代わりの方に"
            "ご確認いただけますでしょうか。",
            "不在とのことでしたので、戻られてからで構いません。",
            "不在の間に返品の商品が届くと思いますので、受け取りだけお願いします。",
        ),
        wraps=("reply_ooo",),
    ),
    Scenario(
        "soushin-shippai",
        "ja",
        (
            "見積書を送ったら送信失敗と出ました",
            "メールが配信されませんでした",
            "添付ファイル付きのメールが届きませんでした",
        ),
        (
            "見積書（PDF）を添付して{support_email}宛てに送ったところ、「メールを配信できません"
            "でした」という通知が返ってきました。\n添付ファイルのサイズが大きすぎたのかもしれません。",
            "改めて、容量を小さくしたPDFを添付してお送りします。",
            "見積書の件でご連絡しています。①数量 ②納期 ③送料 をご確認ください。",
        ),
        wraps=("new", "paste_ndr"),
        attach=("pdf:見積書",),
    ),
    Scenario(
        "mailer-daemon",
        "ja",
        (
            "MAILER-DAEMONからメールが来ました",
            "mailer-daemonという差出人のメールについて",
            "身に覚えのないエラーメールが届きます（配信エラー）",
        ),
        (
            "注文後に「MAILER-DAEMON」という差出人からメールが届きました。\n英語で"
            "「Undelivered Mail Returned to Sender」と書かれています。"
            "御社に関係あるものでしょうか。",
            "メールアドレスを変更したばかりなので、登録情報が古いままなのかもしれません。"
            "新しいアドレスは{me_email}です。",
        ),
        wraps=("new", "fwd_bounce"),
    ),
    Scenario(
        "header-harituke",
        "ja",
        (
            "エラーメールのヘッダーを貼ります（不達の件）",
            "お客様宛てメールの不達について（ヘッダー情報）",
        ),
        (
            "お客様への返信がエラーで戻ってきたので、エラーメールのヘッダーを下に貼り付けます。\n"
            "情報システム部に確認してもらう際に使ってください。",
            "Return-Path が空になっているので、相手側のサーバーが返してきたもののようです。",
        ),
        wraps=("paste_raw",),
        colleague=True,
        clients=("outlook365", "outlook", "thunderbird"),
    ),
    Scenario(
        "system-kanrisha",
        "ja",
        (
            "御社からのメールが当社サーバーで不達になっていた件",
            "配信エラーの原因について（当社側）",
        ),
        (
            "{company}でメールサーバーの管理をしております{me_family}です。\n"
            "御社からのメールが当社で宛先不明として返送されていた件、原因が分かりました。",
            "当社の迷惑メールフィルタの設定ミスでした。本日修正しましたので、今後は届くはずです。",
        ),
        colleague=False,
        postmaster=True,
        clients=("thunderbird", "outlook", "becky"),
    ),
)

EN_SCENARIOS = (
    Scenario(
        "not-delivered",
        "en",
        (
            "Order {order_short} was not delivered",
            "Order #{order_short} marked delivered but not delivered",
            "My package was never delivered",
            "Parcel not delivered - order {order_short}",
        ),
        (
            "My order {order_short} shows as delivered on {date_en}, but nothing arrived. "
            "I checked with my neighbours and the front desk.",
            "The tracking number is {tracking}. Could you open a claim with the carrier or "
            "send a replacement?",
            "This is the second time an order has not been delivered to this address, so I'd "
            "appreciate a quick answer.",
        ),
        wraps=("new", "thread"),
    ),
    Scenario(
        "delivery-problem",
        "en",
        (
            "Problem with the delivery of my order",
            "Delivery problem - order {order_short}",
            "Delivery failure on order {order_short}?",
            "Failed delivery attempt, what now?",
        ),
        (
            "The courier left a card saying there was a delivery failure because the address "
            "was incomplete. The address on the order is correct: {addr_line}.",
            "Can you arrange redelivery for Saturday? I'm out of the office during the week, "
            "so a weekday delivery won't work.",
            "I've attached a photo of the card they left.",
        ),
        wraps=("new", "new", "thread"),
        attach=("photo:delivery-card",),
    ),
    Scenario(
        "returned-mail",
        "en",
        (
            "Returned mail when writing to your sales team",
            "Returned mail: what does it mean?",
            "My return was returned to sender",
        ),
        (
            "Every time I email {bad_addr} I get a 'returned mail' message back. "
            "Has the address changed?",
            "I sent my return back on {date_en}, but the parcel came back to me stamped "
            "'returned to sender - undeliverable'. Is the return address on your website "
            "still valid?",
            "Please let me know the correct address so I don't lose the return window.",
        ),
        wraps=("new", "fwd_bounce", "paste_ndr"),
    ),
    Scenario(
        "undeliverable",
        "en",
        (
            "Undeliverable emails to your support address",
            "Your emails to me are undeliverable?",
            "Undeliverable: my reply to ticket {ticket}",
        ),
        (
            "I got an 'Undeliverable' message when replying to your last email.",
            "Our IT person says the error comes from your side "
            "(550 5.1.10 RESOLVER.ADR.RecipientNotFound).",
            "Is there another address I should use for ticket {ticket}?",
        ),
        wraps=("paste_ndr", "fwd_attach", "fwd_bounce"),
    ),
    Scenario(
        "failure-notice",
        "en",
        (
            "Got a failure notice when replying to you",
            "failure notice?",
            "Failure notice from your mail server",
        ),
        (
            "I replied to your email about order {order_short} and got a 'failure notice' "
            "back a minute later.",
            "The failure notice says 'Sorry, no mailbox here by that name'. Did I use the "
            "wrong address?",
        ),
        wraps=("new", "fwd_bounce", "paste_ndr"),
    ),
    Scenario(
        "bounce-forward",
        "en",
        ("",),
        (
            "Forwarding this bounce from a customer reply. Looks like the address on file is "
            "wrong; can someone check the order?",
            "Got this Delivery Status Notification after sending the refund confirmation. "
            "The customer's address might have a typo.",
            "FYI - our reply bounced. Can you call the customer instead?",
        ),
        wraps=("fwd_bounce", "fwd_attach", "fwd_parts", "fwd_bounce"),
        colleague=True,
        clients=("outlook365", "outlook", "thunderbird", "gmail"),
    ),
    Scenario(
        "ooo-handover",
        "en",
        (
            "Out of office next week - handover",
            "Out of office June 10-14, coverage plan",
            "OOO Friday: who covers the returns queue?",
            "Vacation next week - open tickets",
        ),
        (
            "Heads up: I'll be out of office from {date_en} to {date_en2}. I deliberately did "
            "not set an automatic reply this time, so please keep an eye on the returns queue.",
            "Open tickets: {ticket} (refund pending), {ticket2} (waiting for the customer's "
            "photos).",
            "If anything urgent comes up while I'm on vacation, text me.",
        ),
        colleague=True,
        clients=("outlook365", "outlook", "thunderbird", "gmail"),
    ),
    Scenario(
        "autoreply-missing",
        "en",
        (
            "No auto-reply after submitting the form",
            "Your auto-reply says you're closed?",
            "Automatic reply not received",
            "Didn't get the automatic reply / confirmation email",
        ),
        (
            "I submitted the contact form twice yesterday but never got the auto-reply your "
            "website promises. Did my message reach you?",
            "Your automatic reply says the office is closed until Monday, but your website "
            "says you're open on Saturdays. Which is right?",
            "I just want to make sure my request about order {order_short} is in the queue.",
        ),
    ),
    Scenario(
        "vacation-hold",
        "en",
        (
            "Vacation hold for my subscription",
            "Vacation - please pause my deliveries",
            "Pause deliveries while I'm on vacation",
        ),
        (
            "I'll be on vacation from {date_en} to {date_en2}. Could you put my subscription "
            "on hold so the boxes don't sit on the porch?",
            "I looked for a vacation hold option in my account but couldn't find one.",
        ),
    ),
    Scenario(
        "unsubscribe",
        "en",
        (
            "Unsubscribe from newsletter",
            "Please unsubscribe me",
            "Unsubscribe link in your newsletter is broken",
            "Still getting the newsletter after unsubscribing",
        ),
        (
            "Please unsubscribe {me_email} from your newsletter. The unsubscribe link at the "
            "bottom gives me a 404 page.",
            "I unsubscribed three weeks ago and I'm still getting the newsletter twice a week.",
            "I'd like to keep my account, just not the marketing emails.",
        ),
    ),
    Scenario(
        "mailer-daemon",
        "en",
        (
            "Message from MAILER-DAEMON after placing an order",
            "What is mailer-daemon and why is it emailing me?",
            "Is this MAILER-DAEMON email from you?",
        ),
        (
            "Right after I placed order {order_short} I got an email from MAILER-DAEMON saying "
            "'Undelivered Mail Returned to Sender'. Is my order OK?",
            "I've never seen this before. Is it spam or did something go wrong on your end?",
        ),
        wraps=("new", "fwd_bounce"),
    ),
    Scenario(
        "reply-to-autoreply",
        "en",
        ("",),
        (
            "Sorry for replying to the auto-reply, but I forgot to include my order number: "
            "{order_short}.",
            "Adding the photos you'll probably ask for.",
            "Your auto-reply says not to reply, but the contact form keeps timing out, "
            "so here I am.",
        ),
        wraps=("reply_auto",),
        attach=("photo:IMG",),
    ),
    Scenario(
        "reply-to-ooo",
        "en",
        ("",),
        (
            "Got your out-of-office. Is there anyone else who can approve the replacement in "
            "the meantime?",
            "No rush - I saw the automatic reply. This can wait until you're back.",
        ),
        wraps=("reply_ooo",),
    ),
    Scenario(
        "confirmation-missing",
        "en",
        (
            "Confirmation email not received",
            "Didn't receive order confirmation for {order_short}",
            "Password reset email never arrives",
        ),
        (
            "I placed an order this morning but the confirmation email was not delivered to "
            "my inbox or spam folder.",
            "I've requested the password reset email four times. Nothing arrives. Could your "
            "emails be bouncing?",
        ),
        wraps=("new", "thread"),
    ),
    Scenario(
        "raw-headers",
        "en",
        (
            "Bounce on refund email - raw headers below",
            "Customer email undeliverable, headers pasted",
            "Why do our replies to this customer bounce?",
        ),
        (
            "Our reply to the customer bounced. I copied the headers of the bounce from the "
            "message source below in case IT needs them.",
            "Note the bounce came from the customer's server, not ours.",
        ),
        wraps=("paste_raw",),
        colleague=True,
        clients=("outlook365", "outlook", "thunderbird"),
    ),
    Scenario(
        "return-label",
        "en",
        (
            "Return label not working",
            "Return parcel came back as undeliverable",
            "Returned package - where do I send it?",
        ),
        (
            "The prepaid return label you sent is rejected by the post office as "
            "undeliverable. Can you send a new one?",
            "The returned package is still in my hallway. Please tell me where to send it.",
        ),
        attach=("pdf:return-label",),
    ),
    Scenario(
        "it-admin",
        "en",
        (
            "Your mail to us was bounced by our filter (fixed)",
            "Re your delivery failure reports",
        ),
        (
            "I look after the mail server at {company}. Our spam filter rejected your mails "
            "as undeliverable for two days; that's fixed now.",
            "If you still see delivery failure notices from us, please forward one to me.",
        ),
        postmaster=True,
        clients=("thunderbird", "outlook", "gmail"),
    ),
)

OTHER_SCENARIOS = (
    Scenario(
        "nicht-zugestellt",
        "de",
        (
            "Bestellung {order_short} nicht zugestellt",
            "Paket als zugestellt markiert, aber nicht angekommen",
        ),
        (
            "Laut Sendungsverfolgung wurde meine Bestellung {order_short} am {date_de} "
            "zugestellt, aber bei mir ist nichts angekommen.",
            "Die Sendungsnummer lautet {tracking}. Bitte prüfen Sie das mit dem Zusteller.",
        ),
    ),
    Scenario(
        "unzustellbar",
        "de",
        ("",),
        (
            "Meine Antwort an Sie kam als unzustellbar zurück. Ich leite Ihnen die "
            "Fehlermeldung weiter.",
            "Können Sie mir eine funktionierende Adresse nennen?",
        ),
        wraps=("fwd_bounce",),
    ),
    Scenario(
        "automatische-antwort",
        "de",
        ("",),
        (
            "Danke für die automatische Antwort. Wer kann mir in der Zwischenzeit beim Angebot "
            "helfen?",
        ),
        wraps=("reply_ooo",),
    ),
    Scenario(
        "abwesenheit",
        "de",
        ("Abwesenheit nächste Woche - Vertretung", "Out of Office ab Montag - Übergabe"),
        (
            "Ich bin ab {date_de} für eine Woche nicht im Büro. Eine Abwesenheitsnotiz richte "
            "ich bewusst nicht ein; bitte übernehmt die Retouren.",
        ),
        colleague=True,
        clients=("outlook365", "thunderbird"),
    ),
    Scenario(
        "newsletter",
        "de",
        ("Newsletter abbestellen - Unsubscribe-Link funktioniert nicht",),
        (
            "Bitte tragen Sie {me_email} aus dem Newsletter aus. Der Unsubscribe-Link am Ende "
            "führt zu einer Fehlerseite.",
        ),
    ),
    Scenario(
        "non-livree",
        "fr",
        ("Commande {order_short} non livrée", "Colis marqué livré mais jamais reçu"),
        (
            "Le suivi indique que ma commande {order_short} a été livrée le {date_fr}, mais je "
            "n'ai rien reçu.",
            "Le numéro de suivi est {tracking}. Pouvez-vous ouvrir une réclamation ?",
        ),
    ),
    Scenario(
        "non-remis",
        "fr",
        ("",),
        (
            "Mon message est revenu avec la mention « Non remis ». Je vous transfère la "
            "notification d'échec de remise.",
        ),
        wraps=("fwd_bounce",),
    ),
    Scenario(
        "reponse-automatique",
        "fr",
        ("",),
        (
            "Désolé de répondre à la réponse automatique, mais j'avais oublié mon numéro de "
            "commande : {order_short}.",
        ),
        wraps=("reply_auto",),
    ),
    Scenario(
        "desabonnement",
        "fr",
        ("Désabonnement de la newsletter", "Se désabonner (unsubscribe) ne fonctionne pas"),
        ("Merci de me désabonner de la newsletter ; le lien « unsubscribe » renvoie une erreur.",),
    ),
    Scenario(
        "retour",
        "fr",
        ("Retour de colis : quelle adresse ?", "Mon retour m'a été renvoyé (adresse inconnue)"),
        (
            "J'ai renvoyé l'article le {date_fr}, mais le colis m'a été retourné avec la mention "
            "« destinataire inconnu ».",
        ),
    ),
    Scenario(
        "no-entregado",
        "es",
        ("Pedido {order_short} no entregado", "El paquete figura como entregado pero no llegó"),
        (
            "Según el seguimiento, mi pedido {order_short} se entregó el {date_es}, pero no he "
            "recibido nada.",
            "El número de seguimiento es {tracking}.",
        ),
    ),
    Scenario(
        "no-se-puede-entregar",
        "es",
        ("",),
        (
            "Mi respuesta rebotó con el mensaje «No se puede entregar». Les reenvío la "
            "notificación.",
        ),
        wraps=("fwd_bounce",),
    ),
    Scenario(
        "respuesta-automatica",
        "es",
        ("",),
        (
            "Recibí su respuesta automática. ¿Hay alguien más que pueda ayudarme con el "
            "presupuesto?",
        ),
        wraps=("reply_ooo",),
    ),
    Scenario(
        "devolucion",
        "es",
        (
            "Devolución: ¿a qué dirección envío el paquete?",
            "Devolución rechazada como no entregable",
        ),
        (
            "Quiero devolver el pedido {order_short}, pero la dirección de devolución no "
            "aparece en la web.",
        ),
    ),
    Scenario(
        "baja",
        "es",
        ("Darme de baja del boletín (unsubscribe)", "Baja de la newsletter"),
        ("Por favor, denme de baja de la newsletter. El enlace de «unsubscribe» no funciona.",),
    ),
)

SCENARIOS: dict[str, tuple[Scenario, ...]] = {"ja": JA_SCENARIOS, "en": EN_SCENARIOS}
for _lang in ("de", "fr", "es"):
    SCENARIOS[_lang] = tuple(s for s in OTHER_SCENARIOS if s.lang == _lang)

#: The programs people of each language write with, in the order they are handed out.
CLIENTS = {
    "ja": (
        "gmail",
        "outlook365",
        "iphone",
        "thunderbird",
        "becky",
        "outlook",
        "docomo",
        "yahoo_jp",
        "au",
        "gmail",
        "softbank",
        "iphone",
        "outlook365",
    ),
    "en": ("gmail", "outlook365", "iphone", "thunderbird", "yahoo_com", "outlook", "gmail"),
    "de": ("outlook365", "gmail", "thunderbird", "iphone"),
    "fr": ("outlook365", "gmail", "thunderbird", "iphone"),
    "es": ("outlook365", "gmail", "iphone", "thunderbird"),
}
CARRIERS = ("docomo", "au", "softbank")
#: Scenarios whose subjects may begin with out-of-office words: when Outlook writes them, they
#: always carry ``X-Auto-Response-Suppress: All`` (as some Outlook versions put on every mail).
SUPPRESS_SCENARIOS = frozenset(
    {
        "ooo-handover",
        "autoreply-missing",
        "jidou-henshin",
        "fuzai-renrakuhyo",
        "fuzai-kyuka",
        "abwesenheit",
        "vacation-hold",
    }
)

GREETINGS = {
    "ja": (
        "{shop}\nご担当者様\n\nお世話になっております。{me_full}と申します。",
        "{shop} カスタマーサポート御中\n\nいつもお世話になっております。\n"
        "{company}の{me_family}です。",
        "お問い合わせ窓口 ご担当者様\n\nはじめてご連絡いたします。{me_full}です。",
    ),
    "en": ("Hi,", "Hello {shop} team,", "Hi there,", "Dear Customer Service,"),
    "de": ("Hallo,", "Sehr geehrte Damen und Herren,"),
    "fr": ("Bonjour,", "Madame, Monsieur,"),
    "es": ("Hola:", "Buenos días:"),
}
CASUAL_GREETING = "すみません、{me_family}です。"
COLLEAGUE_GREETINGS = {
    "ja": (
        "サポートチームの皆さん\n\nお疲れ様です。{me_family}です。",
        "各位\n\nお疲れ様です。{me_family}です。",
    ),
    "en": ("Hi all,", "Team,", "Hi {agent},"),
    "de": ("Hallo zusammen,",),
    "fr": ("Bonjour à tous,",),
    "es": ("Hola a todos:",),
}
CLOSINGS = {
    "ja": (
        "お手数をおかけしますが、よろしくお願いいたします。",
        "ご確認のほど、よろしくお願いいたします。",
        "よろしくお願いします。",
    ),
    "en": (
        "Thanks,\n{me_first}",
        "Best regards,\n{me_full}",
        "Cheers,\n{me_first}",
        "Thank you,\n{me_full}",
    ),
    "de": ("Viele Grüße\n{me_full}", "Mit freundlichen Grüßen\n{me_full}"),
    "fr": ("Cordialement,\n{me_full}", "Merci d'avance,\n{me_full}"),
    "es": ("Un saludo,\n{me_full}", "Saludos cordiales,\n{me_full}"),
}
RULE = "━" * 22
JA_SIGNATURES = (
    "--\n{me_full}\n{me_email}",
    RULE + "\n{company}" + IDEO_SPACE + "{dept}\n{me_full}\nTEL：03-5555-0123\n" + RULE,
    "-- \n{company}\n{me_full}\n〒100-0005 東京都千代田区丸の内1-1-1 №3ビル",
)
LEADS = {
    "fwd_bounce": {
        "ja": "届いたエラーメールを以下に転送します。",
        "en": "The bounce is below.",
        "de": "Die Fehlermeldung steht unten.",
        "fr": "La notification est ci-dessous.",
        "es": "Abajo va la notificación.",
    },
    "fwd_attach": {
        "ja": "エラーメールを添付で転送します。",
        "en": "I've attached the bounce message.",
        "de": "Die Fehlermeldung hänge ich an.",
        "fr": "Je joins la notification.",
        "es": "Adjunto la notificación.",
    },
    "paste_ndr": {
        "ja": "エラーメールの本文を貼り付けます。",
        "en": "Here is the text of the error message:",
        "de": "Hier der Text der Fehlermeldung:",
        "fr": "Voici le texte du message d'erreur :",
        "es": "Este es el texto del error:",
    },
    "paste_raw": {
        "ja": "エラーメールのヘッダー（メッセージのソース）：",
        "en": "Headers of the bounce (message source):",
    },
}
LEADS["fwd_parts"] = LEADS["fwd_bounce"]

#: Words automated mail uses; every generated mail has at least one in its subject or text.
TRAP_WORDS = re.compile(
    r"返品|返送|不在|配送エラー|配信エラー|不達|宛先不明|送信できません|届きません|届いていません|"
    r"届かない|自動返信|自動送信|自動応答|エラー通知|配信停止|メルマガ|送信失敗|配信され|配信不能|"
    r"配信できません|undeliver|not delivered|delivery failure|returned mail|failure notice|"
    r"out of (the )?office|auto-?reply|automatic reply|vacation|mailer-daemon|unsubscribe|"
    r"newsletter|delivery status notification|returned to sender|bounce|mail delivery|"
    r"zugestellt|unzustellbar|abwesenheit|automatische antwort|non remis|livr|"
    r"réponse automatique|no se puede entregar|respuesta automática|entregado|entregable|"
    r"désabonner|retour|devoluci|delivery problem|failed delivery|not received|never arrives|"
    r"never delivered",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- one mail, abstractly


@dataclass
class Attachment:
    """A file a person attaches."""

    kind: str
    filename: str
    ctype: str
    data: bytes


@dataclass
class Draft:
    """Everything about one mail before a mail program writes it."""

    index: int
    visit: int
    lang: str
    client: str
    scenario: str
    wrap: str
    rng: random.Random
    values: dict[str, str]
    sender_name: str
    sender_email: str
    to_name: str
    to_email: str
    date: datetime
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    #: A whole message forwarded as an attachment (message/rfc822).
    forwarded: bytes | None = None
    forwarded_name: str = ""
    #: For Thunderbird's inline forward of a report: (delivery-status text, original bytes).
    report_parts: tuple[str, bytes] | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    auto_response_suppress: bool = False
    read_receipt: bool = False


def rand_hex(rng: random.Random, n: int, upper: bool = False) -> str:
    """n random hex digits."""
    text = "".join(rng.choice("0123456789abcdef") for _ in range(n))
    return text.upper() if upper else text


def rand_alnum(rng: random.Random, n: int, alphabet: str = "") -> str:
    """n random letters and digits."""
    chars = alphabet or "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(chars) for _ in range(n))


def rand_b64(rng: random.Random, n: int) -> str:
    """n random base64 characters (DKIM signatures and similar)."""
    return rand_alnum(rng, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def uuid_text(rng: random.Random, upper: bool = False) -> str:
    """A version-4-looking UUID."""
    raw = rand_hex(rng, 32)
    text = (
        f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-{'89ab'[int(raw[16], 16) % 4]}{raw[17:20]}-{raw[20:]}"
    )
    return text.upper() if upper else text


def doc_ip(rng: random.Random) -> str:
    """A client address from the RFC 5737 documentation ranges."""
    prefix = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{prefix}.{rng.randrange(2, 254)}"


def fold_b64(value: str, indent: str = "\n\t ", width: int = 70) -> str:
    """Fold a long base64 value over several header lines."""
    return indent.join(value[i : i + width] for i in range(0, len(value), width))


# --------------------------------------------------------------------------- text composition


def sender_for(
    lang: str, client: str, scenario: Scenario, shop: Shop, rng: random.Random
) -> tuple[str, str, dict[str, str]]:
    """Pick the person: display name, address and the name fields for templates."""
    if lang == "ja":
        family, family_r = rng.choice(JA_FAMILY)
        given, given_r = rng.choice(JA_GIVEN)
        company, company_r = rng.choice(JA_COMPANIES)
        full = f"{family} {given}" if rng.random() < 0.5 else f"{family}{given}"
        fields = {"me_family": family, "me_first": given, "me_full": full, "company": company}
        local = rng.choice(
            (
                f"{given_r}.{family_r}",
                f"{family_r}_{given_r}{rng.randrange(70, 99)}",
                f"{given_r[0]}-{family_r}",
                f"{family_r}{given_r}",
            )
        )
        company_domain = f"{company_r}.example.co.jp"
    else:
        first, last = rng.choice(LATIN_NAMES[lang])
        full = f"{first} {last}"
        company = rng.choice(EN_COMPANIES)
        fields = {"me_family": last, "me_first": first, "me_full": full, "company": company}
        local = rng.choice(
            (
                f"{ascii_fold(first)}.{ascii_fold(last)}",
                f"{ascii_fold(first)}{rng.randrange(80, 99)}",
                f"{ascii_fold(first)[0]}{ascii_fold(last)}",
            )
        )
        company_domain = re.sub(r"[^a-z]+", "-", company.lower()).strip("-") + ".example"
    domain = _sender_domain(lang, client, rng, company_domain)
    if scenario.colleague:
        local = local.replace("_", ".")
        domain = shop.domain
        fields["company"] = shop.name
    if scenario.postmaster:
        local, domain = "postmaster", company_domain
        fields["me_full"] = (
            f"{fields['me_family']}（情報システム）" if lang == "ja" else f"{full} (IT)"
        )
    email = f"{local}@{domain}"
    fields["me_email"] = email
    name = fields["me_full"]
    if client in CARRIERS and rng.random() < 0.7:
        name = ""
    return name, email, fields


def _sender_domain(lang: str, client: str, rng: random.Random, company_domain: str) -> str:
    """The mail domain a person of this program most likely uses."""
    choices = {
        "gmail": ("gmail.com",),
        "outlook365": ("outlook.jp", "hotmail.co.jp", company_domain)
        if lang == "ja"
        else ("outlook.com", "hotmail.com", company_domain),
        "outlook": (company_domain, "nifty.com", "ybb.ne.jp")
        if lang == "ja"
        else (company_domain, "comcast.net", "btinternet.com"),
        "iphone": ("icloud.com", "i.softbank.jp", "au.com", "gmail.com")
        if lang == "ja"
        else ("icloud.com", "me.com", "gmail.com"),
        "thunderbird": (company_domain, "ocn.ne.jp", "so-net.ne.jp")
        if lang == "ja"
        else (company_domain, "posteo.de", "fastmail.com"),
        "becky": (company_domain, "nifty.com", "ocn.ne.jp"),
        "yahoo_jp": ("yahoo.co.jp",),
        "yahoo_com": ("yahoo.com",),
        "docomo": ("docomo.ne.jp",),
        "au": ("au.com", "ezweb.ne.jp"),
        "softbank": ("softbank.ne.jp",),
    }
    if lang in ("de", "fr", "es"):
        local_isp = {"de": "web.de", "fr": "orange.fr", "es": "telefonica.net"}[lang]
        choices["thunderbird"] = (company_domain, local_isp)
        choices["outlook365"] = ("outlook.com", company_domain)
    return rng.choice(choices[client])


def template_values(
    lang: str,
    shop: Shop,
    when: datetime,
    earlier: datetime,
    *,
    rng: random.Random,
    fields: dict[str, str],
) -> dict[str, str]:
    """Fill-ins for the text templates of one mail."""
    first = when + timedelta(days=rng.randrange(1, 6))
    second = first + timedelta(days=rng.randrange(4, 12))
    colleague_family, colleague_r = rng.choice(
        [f for f in JA_FAMILY if f[0] != fields["me_family"]]
    )
    colleague_first = rng.choice([n[0] for n in LATIN_NAMES["en"] if n[0] != fields["me_first"]])
    bad_user = rng.choice(("tanaka", "sales", "suport", "returns", "k.sato", "orders"))
    bad_domain = rng.choice((shop.domain, "customer-mail.example", "ezweb.ne.jp"))
    values = {
        **fields,
        "shop": shop.name,
        "support_email": shop.email,
        "agent": shop.agent,
        "order": f"MD-2406-{rng.randrange(10000, 99999):05d}",
        "order_short": str(rng.randrange(1000, 9999)),
        "tracking": f"{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}-"
        f"{rng.randrange(1000, 9999)}",
        "ticket": str(rng.randrange(40000, 49999)),
        "ticket2": str(rng.randrange(40000, 49999)),
        "invoice": f"INV-{rng.randrange(2024000, 2024999)}",
        "quote": f"Q-{rng.randrange(1000, 9999)}",
        "item": rng.choice(ITEMS["ja" if lang == "ja" else "en"]),
        "date_md": f"{first.month}月{first.day}日",
        "date_md2": f"{second.month}月{second.day}日",
        "date_en": f"{MONTHS_LONG[first.month - 1]} {first.day}",
        "date_en2": f"{MONTHS_LONG[second.month - 1]} {second.day}",
        "date_de": f"{first.day}. Juni",
        "date_de2": f"{second.day}. Juni",
        "date_fr": f"{first.day} juin",
        "date_fr2": f"{second.day} juin",
        "date_es": f"{first.day} de junio",
        "date_es2": f"{second.day} de junio",
        "days": str(rng.randrange(2, 6)),
        "colleague": colleague_family if lang == "ja" else colleague_first,
        "colleague_email": f"{colleague_r}@{shop.domain}"
        if lang == "ja"
        else f"{colleague_first.lower()}@{shop.domain}",
        "bad_user": bad_user,
        "bad_domain": bad_domain,
        "bad_addr": f"{bad_user}@{bad_domain}",
        "addr_line": "東京都世田谷区桜丘2-10-5 さくらハイツ203"
        if lang == "ja"
        else f"{rng.randrange(10, 999)} Maple Street, Apt {rng.randrange(1, 40)}",
        "dept": rng.choice(JA_DEPTS),
        "mta": rng.choice(("mx01.customer-mail.example", "mail.example.net", "smtp.isp.example")),
        "rmta": rng.choice(("mx.customer-mail.example", "mail.example.org")),
        "tenant": rng.choice(("contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com")),
        "exch_server": rng.choice(
            ("TYCPR01MB8123.jpnprd01.prod.outlook.com", "BY5PR11MB4321.namprd11.prod.outlook.com")
        ),
    }
    orig = rng.choice(ORIG_SUBJECTS[lang]).format_map(values)
    values["orig"] = orig
    values["orig_id"] = f"{rand_hex(rng, 12)}.{rand_hex(rng, 8)}@{shop.domain}"
    values["orig_date"] = rfc_date(earlier - timedelta(minutes=rng.randrange(1, 20)))
    return values


def compose_text(
    scenario: Scenario, client: str, rng: random.Random, v: dict[str, str]
) -> tuple[list[str], list[str]]:
    """The person's own words: (greeting and paragraphs, closing and signature)."""
    lang = scenario.lang
    if scenario.colleague:
        greeting = rng.choice(COLLEAGUE_GREETINGS[lang])
    elif lang == "ja" and client in (*CARRIERS, "iphone") and rng.random() < 0.6:
        greeting = CASUAL_GREETING
    else:
        greeting = rng.choice(GREETINGS[lang])
    count = min(len(scenario.paragraphs), rng.choice((1, 2, 2, 3)))
    picked = sorted(rng.sample(range(len(scenario.paragraphs)), count))
    head = [greeting] + [scenario.paragraphs[i] for i in picked]
    tail = [rng.choice(CLOSINGS[lang])]
    signature = _signature(lang, client, rng)
    if signature:
        tail.append(signature)
    return [p.format_map(v) for p in head], [p.format_map(v) for p in tail]


def _signature(lang: str, client: str, rng: random.Random) -> str:
    """A signature block as people of this program write it ('' for none)."""
    if client == "iphone":
        return "iPhoneから送信" if lang == "ja" else "Sent from my iPhone"
    if client in CARRIERS:
        return ""
    if lang == "ja":
        return rng.choice((*JA_SIGNATURES, ""))
    if rng.random() < 0.4:
        return "--\n{me_full}\n{company}"
    return ""


# --------------------------------------------------------------------------- quoting programs

REPLY_PREFIX = {
    "gmail": "Re: ",
    "outlook365": "RE: ",
    "outlook": "RE: ",
    "iphone": "Re: ",
    "thunderbird": "Re: ",
    "becky": "Re: ",
    "yahoo_jp": "Re: ",
    "yahoo_com": "Re: ",
    "docomo": "Re:",
    "au": "Re: ",
    "softbank": "Re: ",
}
FORWARD_PREFIX = {
    "gmail": "Fwd: ",
    "outlook365": "FW: ",
    "outlook": "FW: ",
    "iphone": "Fwd: ",
    "thunderbird": "Fwd: ",
    "becky": "Fw: ",
    "yahoo_jp": "転送: ",
    "yahoo_com": "Fwd: ",
    "docomo": "転送: ",
    "au": "Fw: ",
    "softbank": "転送：",
}
OUTLOOK_PREFIXES = {
    "de": ("AW: ", "WG: "),
    "fr": ("RE : ", "TR : "),
    "es": ("RE: ", "RV: "),
}
OUTLOOK_LABELS = {
    "ja": ("差出人", "送信日時", "宛先", "件名"),
    "en": ("From", "Sent", "To", "Subject"),
    "de": ("Von", "Gesendet", "An", "Betreff"),
    "fr": ("De", "Envoyé", "À", "Objet"),
    "es": ("De", "Enviado", "Para", "Asunto"),
}


def prefix(kind: str, client: str, lang: str) -> str:
    """Re:/Fwd: as this program writes it in this language."""
    if client.startswith("outlook") and lang in OUTLOOK_PREFIXES:
        return OUTLOOK_PREFIXES[lang][0 if kind == "reply" else 1]
    return (REPLY_PREFIX if kind == "reply" else FORWARD_PREFIX)[client]


def _ja_date(when: datetime) -> str:
    """``2024年6月3日(月) 10:15``."""
    return f"{when.year}年{when.month}月{when.day}日({YOUBI[when.weekday()]}) {when:%H:%M}"


def _en_date(when: datetime) -> str:
    """``Mon, Jun 3, 2024 at 10:15 AM``."""
    hour = when.hour % 12 or 12
    ampm = "AM" if when.hour < 12 else "PM"
    month = MONTHS[when.month - 1]
    return f"{DAYS[when.weekday()]}, {month} {when.day}, {when.year} at {hour}:{when:%M} {ampm}"


def quote_lines(text: str) -> str:
    """Prefix every line with '> '."""
    return "\n".join(("> " + line) if line else ">" for line in text.split("\n"))


@dataclass(frozen=True)
class Earlier:
    """An earlier mail shown in a reply or a forward."""

    who: str
    addr: str
    when: datetime
    subject: str
    text: str


def quote_block(client: str, lang: str, m: Earlier) -> str:
    """The quoted earlier mail, in this program's attribution style (m.who wrote it)."""
    when, who, addr = m.when, m.who, m.addr
    quoted = quote_lines(m.text)
    if client.startswith("outlook"):
        labels = OUTLOOK_LABELS[lang]
        sent = _ja_date(when) if lang == "ja" else _en_date(when).replace(" at", "")
        block = (
            f"{'_' * 32}\n{labels[0]}: {who} <{addr}>\n{labels[1]}: {sent}\n"
            f"{labels[2]}: {addr if lang == 'ja' else 'me'}\n{labels[3]}: {m.subject}\n\n{m.text}"
        )
    elif client == "gmail":
        head = (
            f"{_ja_date(when)} {who} <{addr}>:"
            if lang == "ja"
            else f"On {_en_date(when)} {who} <{addr}> wrote:"
        )
        block = f"{head}\n\n{quoted}"
    elif client == "iphone":
        head = (
            f"{when:%Y/%m/%d} {when:%H:%M}、{who} <{addr}>のメール:"
            if lang == "ja"
            else f"On {MONTHS[when.month - 1]} {when.day}, {when.year}, at "
            f"{_en_date(when).rpartition(' at ')[2]}, {who} <{addr}> wrote:"
        )
        block = f"{head}\n\n{quoted}"
    elif client in ("thunderbird", "yahoo_com"):
        head = (
            f"{when:%Y/%m/%d} {when:%H:%M}, {who} wrote:"
            if lang == "ja"
            else f"On {when.month}/{when.day}/{when:%y} {when:%H:%M}, {who} wrote:"
        )
        block = f"{head}\n{quoted}"
    elif client == "becky":
        block = f"On {rfc_date(when, pad=True)}\n{who} <{addr}> wrote:\n\n{quoted}"
    else:
        block = (
            f"-----Original Message-----\nFrom: {addr}\nDate: {rfc_date(when)}\n"
            f"Subject: {m.subject}\n\n{quoted}"
        )
    return block


def forward_block(client: str, lang: str, m: Earlier) -> str:
    """A forwarded message shown inline, in this program's style (m.who sent it to m.addr)."""
    when, sender, to, subject, text = m.when, m.who, m.addr, m.subject, m.text
    if client.startswith("outlook"):
        labels = OUTLOOK_LABELS[lang]
        sent = _ja_date(when) if lang == "ja" else _en_date(when).replace(" at", "")
        block = (
            f"{'_' * 32}\n{labels[0]}: {sender}\n{labels[1]}: {sent}\n{labels[2]}: {to}\n"
            f"{labels[3]}: {subject}\n\n{text}"
        )
    elif client == "gmail":
        date = _ja_date(when) if lang == "ja" else _en_date(when)
        block = (
            "---------- Forwarded message ---------\n"
            f"From: {sender}\nDate: {date}\nSubject: {subject}\nTo: <{to}>\n\n\n{text}"
        )
    elif client == "iphone" and lang == "ja":
        block = (
            f"転送されたメッセージ:\n\n差出人: {sender}\n日付: {_ja_date(when)}\n"
            f"宛先: {to}\n件名: {subject}\n\n{text}"
        )
    elif client == "iphone":
        block = (
            f"Begin forwarded message:\n\nFrom: {sender}\nDate: {_en_date(when)}\n"
            f"To: {to}\nSubject: {subject}\n\n{text}"
        )
    elif client == "thunderbird" and lang == "ja":
        block = (
            "-------- 転送メッセージ --------\n"
            f"件名:\t{subject}\n日付:\t{rfc_date(when)}\n送信者:\t{sender}\n宛先:\t{to}\n\n"
            f"\n{text}"
        )
    elif client == "thunderbird":
        block = (
            "-------- Forwarded Message --------\n"
            f"Subject: \t{subject}\nDate: \t{rfc_date(when)}\nFrom: \t{sender}\nTo: \t{to}\n\n\n"
            f"{text}"
        )
    else:
        block = (
            f"----- Original Message -----\nFrom: {sender}\nTo: {to}\nDate: {rfc_date(when)}\n"
            f"Subject: {subject}\n\n{text}"
        )
    return block


# --------------------------------------------------------------------------- the bounce as a mail


def bounce_for(client: str, lang: str, rng: random.Random) -> Bounce:
    """The bounce this person most likely received (their provider's format)."""
    if client == "gmail":
        return BOUNCES["gmail_ja" if lang == "ja" else "gmail_en"]
    if client.startswith("outlook"):
        key = {"ja": "exch_ja", "en": "exch_en", "de": "exch_de", "fr": "exch_fr", "es": "exch_es"}
        if lang in ("ja", "en") and rng.random() < 0.4:
            return BOUNCES[key[lang] + "_old"]
        return BOUNCES[key[lang]]
    return BOUNCES[rng.choice(OTHER_BOUNCES[lang])]


@dataclass(frozen=True)
class Dsn:
    """A complete RFC 3464 bounce: its bytes, header block, status block and returned headers."""

    raw: bytes
    head: str
    status: str
    original: str


def dsn_message(bounce: Bounce, v: dict[str, str], when: datetime, rng: random.Random) -> Dsn:
    """The whole bounce a person received (forwarded as an attachment or pasted)."""
    text = bounce.text.format_map(v)
    sender = bounce.sender.format_map(v)
    subject = bounce.subject.format_map(v)
    mta = v["mta"]
    queue = rand_hex(rng, 10, upper=True)
    boundary = f"{queue}.{int(when.timestamp())}/{mta}"
    utf8 = HeaderStyle("utf-8", "UTF-8")
    head = (
        f"Return-Path: <>\n"
        f"Received: from localhost (localhost)\n\tby {mta} (Postfix)\n\tid {queue}; "
        f"{received_date(when)}\n"
        f"Date: {rfc_date(when, pad=True, zone_comment=True)}\n"
        f"From: {htext(sender, utf8)}\n"
        f"Subject: {htext(subject, utf8)}\n"
        f"To: <{v['me_email']}>\n"
        f"Auto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n'
        f"Content-Transfer-Encoding: 7bit\n"
        f"Message-Id: <{when:%Y%m%d%H%M%S}.{queue}@{mta}>\n"
    )
    notice = text.encode("utf-8")
    notice_cte = "7bit" if text.isascii() else "base64"
    status = (
        f"Reporting-MTA: dns; {mta}\nX-Postfix-Queue-ID: {queue}\n"
        f"X-Postfix-Sender: rfc822; {v['me_email']}\nArrival-Date: {rfc_date(when)}\n\n"
        f"Final-Recipient: rfc822; {v['bad_addr']}\nOriginal-Recipient: rfc822;{v['bad_addr']}\n"
        f"Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; {v['rmta']}\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{v['bad_addr']}>: Recipient address rejected: User\n"
        f"    unknown in local recipient table\n"
    )
    original = (
        f"Return-Path: <{v['me_email']}>\nFrom: {v['me_email']}\nTo: {v['bad_addr']}\n"
        f"Subject: {htext(v['orig'], utf8)}\nMessage-ID: <{v['orig_id']}>\n"
        f"Date: {v['orig_date']}\nMIME-Version: 1.0\n"
    )
    body = (
        f"This is a MIME-encapsulated message.\n\n--{boundary}\n"
        f"Content-Description: Notification\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: {notice_cte}\n\n"
    ).encode() + transfer(notice, notice_cte)
    body += (
        f"\n--{boundary}\nContent-Description: Delivery report\n"
        f"Content-Type: message/delivery-status\n\n{status}\n"
        f"--{boundary}\nContent-Description: Undelivered Message Headers\n"
        f"Content-Type: text/rfc822-headers\n\n{original}\n--{boundary}--\n"
    ).encode()
    return Dsn(head.encode() + b"\n" + body, head, status, original)


# --------------------------------------------------------------------------- MIME assembly


@dataclass
class Part:
    """One MIME body part: header lines and already transfer-encoded bytes."""

    headers: list[tuple[str, str]]
    body: bytes


def multipart(boundary: str, parts: Sequence[Part], preamble: str = "") -> bytes:
    """The body of a multipart entity."""
    out = bytearray(preamble.encode())
    if preamble:
        out += b"\n"
    for part in parts:
        out += f"--{boundary}\n".encode()
        out += "".join(f"{k}: {v}\n" for k, v in part.headers).encode("ascii")
        out += b"\n" + part.body
        if not part.body.endswith(b"\n"):
            out += b"\n"
    out += f"--{boundary}--\n".encode()
    return bytes(out)


def text_part(
    text: str,
    charset: str,
    label: str,
    cte: str,
    *,
    subtype: str = "plain",
    params: str = "",
    quoted: bool = True,
    cte_header: bool = True,
) -> Part:
    """A text/* part in a charset and transfer encoding."""
    data = encode_text(text.rstrip("\n") + "\n", charset)
    charset_param = f'charset="{label}"' if quoted else f"charset={label}"
    headers = [("Content-Type", f"text/{subtype}; {charset_param}{params}")]
    if cte_header:
        headers.append(("Content-Transfer-Encoding", cte))
    return Part(headers, transfer(data, cte))


def body_cte(text: str, charset: str, rng: random.Random, prefer: str = "") -> str:
    """The transfer encoding a program would use for this text."""
    if charset.lower() in ("iso-2022-jp", "us-ascii"):
        return "7bit"
    if prefer:
        return prefer
    if text.isascii():
        return "quoted-printable" if any(len(line) > 76 for line in text.split("\n")) else "7bit"
    if any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text):
        return "base64"
    return "quoted-printable"


def flow(text: str, width: int = 72) -> str:
    """Wrap long lines the way format=flowed writers do (RFC 3676: a soft break ends in ' ')."""
    out = []
    for line in text.split("\n"):
        if len(line) <= 78 or line.startswith(">") or " " not in line.strip():
            out.append(line)
            continue
        words = line.split(" ")
        current = ""
        for word in words:
            if current and len(current) + len(word) > width:
                out.append(current)
                current = ""
            current += word + " "
        out.append(current.rstrip(" "))
    return "\n".join(out)


def html_lines(text: str, line: str, empty: str) -> str:
    """Text lines as HTML, one element per line."""
    out = []
    for raw in text.rstrip("\n").split("\n"):
        out.append(line.format(html.escape(raw)) if raw.strip() else empty)
    return "\n".join(out)


def outlook_html(text: str, charset: str, lang: str) -> str:
    """The HTML alternative Outlook (Word) writes."""
    lines = html_lines(
        text, '<p class="MsoNormal">{}<o:p></o:p></p>', '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    )
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" '
        'xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
        'xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
        '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
        "<style><!--\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0mm;\n"
        '\tfont-size:11.0pt;\n\tfont-family:"Calibri",sans-serif;}\n'
        "@page WordSection1\n\t{size:612.0pt 792.0pt;}\n"
        "div.WordSection1\n\t{page:WordSection1;}\n--></style>\n</head>\n"
        f'<body lang="{lang.upper()}" link="#0563C1" vlink="#954F72" '
        'style="word-wrap:break-word">\n<div class="WordSection1">\n'
        f"{lines}\n</div>\n</body>\n</html>\n"
    )


def gmail_html(text: str) -> str:
    """The HTML alternative Gmail writes."""
    return '<div dir="ltr">' + html_lines(text, "<div>{}</div>", "<div><br></div>") + "</div>\n"


def yahoo_html(text: str) -> str:
    """The HTML alternative Yahoo! Mail writes."""
    lines = html_lines(
        text, '<div dir="ltr" data-setdir="false">{}</div>', '<div dir="ltr"><br></div>'
    )
    return (
        '<html><head></head><body><div class="ydp3f1e2a4cyahoo-style-wrap" '
        'style="font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;">'
        f"{lines}</div></body></html>\n"
    )


def attachment_part(att: Attachment, style: str, when: datetime) -> Part:
    """An attachment part written the way a program writes file names."""
    name = att.filename
    data = transfer(att.data, "base64")
    if style == "rfc2231":
        if name.isascii():
            disp = f'attachment; filename="{name}"'
            ctype = f'{att.ctype}; name="{name}"'
        else:
            encoded = quote(name.encode("utf-8"), safe="")
            disp = f"attachment; filename*=UTF-8''{encoded}"
            ctype = f'{att.ctype}; name="{htext(name, HeaderStyle("utf-8", "UTF-8"))}"'
        return Part(
            [
                ("Content-Type", ctype),
                ("Content-Disposition", disp),
                ("Content-Transfer-Encoding", "base64"),
            ],
            data,
        )
    if style.startswith("outlook"):
        charset = style.partition(":")[2] or "utf-8"
        value = htext(name, HeaderStyle(charset, charset, fold=" "))
        stamp = f"{rfc_date(when.astimezone(UTC), pad=True)[:-6]} GMT"
        return Part(
            [
                ("Content-Type", f'{att.ctype}; name="{value}"'),
                ("Content-Description", value),
                (
                    "Content-Disposition",
                    f'attachment;\n\tfilename="{value}"; size={len(att.data)};\n'
                    f'\tcreation-date="{stamp}";\n\tmodification-date="{stamp}"',
                ),
                ("Content-Transfer-Encoding", "base64"),
            ],
            data,
        )
    if style == "apple":
        if name.isascii():
            ctype, disp = f"{att.ctype}; name={name}", f"inline; filename={name}"
        else:
            encoded = quote(name.encode("utf-8"), safe="")
            ctype = f"{att.ctype}; name*=utf-8''{encoded}"
            disp = f"inline; filename*=utf-8''{encoded}"
        return Part(
            [
                ("Content-Type", ctype),
                ("Content-Disposition", disp),
                ("Content-Transfer-Encoding", "base64"),
            ],
            data,
        )
    charset = style.partition(":")[2] or "UTF-8"
    value = htext(name, HeaderStyle(charset.lower(), charset, fold=" "))
    return Part(
        [
            ("Content-Type", f'{att.ctype}; name="{value}"'),
            ("Content-Disposition", f'attachment; filename="{value}"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        data,
    )


def forwarded_part(draft: Draft, with_name: bool) -> Part:
    """The forwarded bounce as a message/rfc822 attachment."""
    assert draft.forwarded is not None
    name = draft.forwarded_name
    if with_name:
        value = htext(name, HeaderStyle("utf-8", "UTF-8", fold=" "))
        headers = [
            ("Content-Type", f'message/rfc822; name="{value}"'),
            ("Content-Disposition", f'attachment; filename="{value}"'),
        ]
    else:
        headers = [("Content-Type", "message/rfc822"), ("Content-Disposition", "attachment")]
    return Part(headers, draft.forwarded)


def extra_parts(draft: Draft, style: str, named_rfc822: bool = True) -> list[Part]:
    """Attachments and forwarded messages of a draft, as parts."""
    parts = [attachment_part(a, style, draft.date) for a in draft.attachments]
    if draft.forwarded is not None:
        parts.append(forwarded_part(draft, named_rfc822))
    return parts


def render_headers(headers: Sequence[tuple[str, str]]) -> bytes:
    """Header lines (values already encoded and folded with LF)."""
    return "".join(f"{name}: {value}\n" for name, value in headers).encode("ascii")


def finish(headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    """A whole message with CRLF line ends."""
    raw = render_headers(headers) + b"\n" + body
    assert b"\r" not in raw
    return raw.replace(b"\n", b"\r\n")


def arrival(draft: Draft, helo: str, host: str, ip: str, seconds: int = 2) -> list[tuple[str, str]]:
    """What our own MX and delivery agent add on top of every mail."""
    rng = draft.rng
    mx_zone = JST if draft.lang == "ja" else UTC
    when = (draft.date + timedelta(seconds=seconds)).astimezone(mx_zone)
    domain = draft.to_email.rpartition("@")[2]
    queue = "4V" + rand_alnum(rng, 10, "BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789")
    return [
        ("Return-Path", f"<{draft.sender_email}>"),
        ("X-Original-To", draft.to_email),
        ("Delivered-To", draft.to_email),
        (
            "Received",
            f"from {helo} ({host} [{ip}])\n\tby mx1.{domain} (Postfix) with ESMTPS id {queue}\n"
            f"\tfor <{draft.to_email}>; {received_date(when)}",
        ),
    ]


def threading(draft: Draft) -> list[tuple[str, str]]:
    """In-Reply-To and References of a reply."""
    if not draft.in_reply_to:
        return []
    refs = " ".join(f"<{r}>" for r in draft.references)
    return [("References", refs), ("In-Reply-To", f"<{draft.in_reply_to}>")]


def dkim(rng: random.Random, domain: str, selector: str, signed: str, when: datetime) -> str:
    """A DKIM-Signature value (the signature is random, never verified)."""
    stamp = int(when.timestamp())
    return (
        f"v=1; a=rsa-sha256; c=relaxed/relaxed;\n        d={domain}; s={selector}; t={stamp};"
        f"\n        h={signed};\n        bh={rand_b64(rng, 43)}=;\n        b="
        + fold_b64(rand_b64(rng, 342) + "==", "\n         ")
    )


# --------------------------------------------------------------------------- mail programs


def render_gmail(d: Draft) -> tuple[bytes, str]:
    """Gmail (web and Android): multipart/alternative, UTF-8 base64 or quoted-printable."""
    rng = d.rng
    style = HeaderStyle("utf-8", "UTF-8")
    cte = body_cte(d.text, "utf-8", rng)
    host = f"mail-{rng.choice(('pl1', 'pj1', 'qt1', 'ej1', 'lf1'))}-f{rng.randrange(41, 199)}"
    host += ".google.com"
    ip = f"209.85.{rng.randrange(128, 255)}.{rng.randrange(2, 254)}"
    pdt = d.date.astimezone(timezone(timedelta(hours=-7), "PDT"))
    domain = d.sender_email.rpartition("@")[2]
    headers = arrival(d, host, host, ip)
    headers += [
        (
            "Authentication-Results",
            f"mx1.{d.to_email.rpartition('@')[2]};\n\tdkim=pass (2048-bit key; unprotected) "
            f"header.d={domain} header.i=@{domain} header.b={rand_alnum(rng, 8)};\n"
            "\tdkim-atps=neutral",
        ),
        (
            "Received",
            f"by {host} with SMTP id {rand_hex(rng, 8)}-{rand_hex(rng, 12)}so"
            f"{rng.randrange(10**6, 10**7)}.{rng.randrange(0, 4)}\n        for <{d.to_email}>; "
            f"{rfc_date(pdt, pad=True, zone_comment=True)}",
        ),
        (
            "DKIM-Signature",
            dkim(
                rng,
                domain,
                "20230601",
                "to:subject:message-id:date:from:mime-version:from:to"
                ":cc:subject\n         :date:message-id:reply-to",
                d.date,
            ),
        ),
        ("X-Gm-Message-State", "AOJu0Y" + rand_b64(rng, 58)),
        ("X-Google-Smtp-Source", "AGHT+I" + rand_b64(rng, 64)),
        (
            "X-Received",
            f"by 2002:a17:90a:{rand_hex(rng, 4)}:b0:{rand_hex(rng, 3)}:{rand_hex(rng, 4)} with "
            f"SMTP id {rand_alnum(rng, 30, '0123456789abcdef')}.{rng.randrange(1, 40)}."
            f"{int(d.date.timestamp())}{rng.randrange(100, 999)};\n        "
            f"{rfc_date(pdt, pad=True, zone_comment=True)}",
        ),
        ("MIME-Version", "1.0"),
        *threading(d),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("Date", rfc_date(d.date)),
        ("Message-ID", f"<CA{rand_alnum(rng, 1, 'BDFJKLMN')}{rand_alnum(rng, 45)}@mail.gmail.com>"),
        ("Subject", htext(d.subject, style)),
        ("To", haddr(d.to_name, d.to_email, style)),
    ]
    if d.read_receipt:
        headers.insert(-1, ("Disposition-Notification-To", d.sender_email))
    alt_boundary = "000000000000" + rand_hex(rng, 16)
    plain = text_part(d.text, "utf-8", "UTF-8", cte, cte_header=cte != "7bit")
    rich = text_part(gmail_html(d.text), "utf-8", "UTF-8", "quoted-printable", subtype="html")
    alternative = multipart(alt_boundary, [plain, rich])
    attachments = extra_parts(d, "encoded:UTF-8")
    if attachments:
        mixed = "000000000000" + rand_hex(rng, 16)
        for att_part in attachments:
            att_id = "f_" + rand_alnum(rng, 9, "abcdefghijklmnopqrstuvwxyz0123456789")
            att_part.headers += [("Content-ID", f"<{att_id}>"), ("X-Attachment-Id", att_id)]
        inner = Part(
            [("Content-Type", f'multipart/alternative; boundary="{alt_boundary}"')], alternative
        )
        headers.append(("Content-Type", f'multipart/mixed; boundary="{mixed}"'))
        body = multipart(mixed, [inner, *attachments])
    else:
        headers.append(("Content-Type", f'multipart/alternative; boundary="{alt_boundary}"'))
        body = alternative
    return finish(headers, body), f"utf-8/{cte}"


OUTLOOK_REGIONS = {
    "ja": ("TYCPR01MB", "jpnprd01", "JPN01-OS0-obe", "mail-os0jpn01on21", "40.107.113", "ja-JP"),
    "en": ("BY5PR11MB", "namprd11", "NAM11-DM6-obe", "mail-dm6nam11on20", "40.107.223", "en-US"),
    "de": ("AM0PR07MB", "eurprd07", "EUR05-AM6-obe", "mail-am6eur05on21", "40.107.22", "de-DE"),
    "fr": ("PR3PR09MB", "eurprd09", "EUR01-PR3-obe", "mail-pr3eur01on20", "40.107.14", "fr-FR"),
    "es": ("DB8PR04MB", "eurprd04", "EUR03-DB8-obe", "mail-db8eur03on20", "40.107.20", "es-ES"),
}


def _outlook_charset(d: Draft) -> tuple[str, str, str]:
    """(charset, label, transfer encoding) of an Outlook mail's text."""
    rng = d.rng
    if d.lang == "ja":
        if rng.random() < 0.75:
            return "iso-2022-jp", "iso-2022-jp", "7bit"
        return "utf-8", "utf-8", "base64"
    if d.text.isascii():
        return "us-ascii", "us-ascii", "7bit"
    if d.lang in ("de", "fr", "es") and rng.random() < 0.5:
        return "iso-8859-1", "iso-8859-1", "quoted-printable"
    return "utf-8", "utf-8", "quoted-printable"


def render_outlook365(d: Draft) -> tuple[bytes, str]:
    """Outlook on Exchange Online (Microsoft 365 or Outlook.com)."""
    rng = d.rng
    server_prefix, region, obe, edge, edge_net, language = OUTLOOK_REGIONS[d.lang]
    server = f"{server_prefix}{rng.randrange(1000, 9999)}"
    other = f"{server_prefix[:2]}{rng.choice('0123')}PR01MB{rng.randrange(1000, 9999)}"
    fqdn = f"{server}.{region}.prod.outlook.com"
    charset, label, cte = _outlook_charset(d)
    style = HeaderStyle(charset, label, fold="\n\t")
    utc = d.date.astimezone(UTC)
    edge_num = rng.randrange(10, 99)
    edge_host = f"{edge}{edge_num}.outbound.protection.outlook.com"
    network_id = uuid_text(rng)
    domain = d.sender_email.rpartition("@")[2]
    subject = htext(d.subject, style)
    headers = arrival(
        d, f"{obe}.outbound.protection.outlook.com", edge_host, f"{edge_net}.{edge_num}"
    )
    headers += [
        (
            "ARC-Seal",
            "i=1; a=rsa-sha256; s=arcselector10001; d=microsoft.com; cv=none;\n b="
            + fold_b64(rand_b64(rng, 340) + "==", "\n "),
        ),
        (
            "ARC-Authentication-Results",
            "i=1; mx.microsoft.com 1; spf=none; dmarc=none;\n dkim=none; arc=none",
        ),
        (
            "Received",
            f"from {fqdn} (2603:1096:{rand_hex(rng, 3)}:{rand_hex(rng, 2)}::{rng.randrange(5, 15)})"
            f"\n by {other}.{region}.prod.outlook.com (2603:1096:{rand_hex(rng, 3)}::9) with\n"
            " Microsoft SMTP Server (version=TLS1_2,\n"
            " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7633.27; "
            f"{rfc_date(utc + timedelta(seconds=1))}",
        ),
        (
            "Received",
            f"from {fqdn}\n ([fe80::{rand_hex(rng, 4)}:{rand_hex(rng, 4)}:{rand_hex(rng, 4)}:"
            f"{rand_hex(rng, 4)}]) by {fqdn}\n ([fe80::1%{rng.randrange(3, 7)}]) with mapi id "
            f"15.20.7633.021; {rfc_date(utc)}",
        ),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("To", f'"{d.to_email}" <{d.to_email}>'),
        ("Subject", subject),
        ("Thread-Topic", htext(re.sub(r"^(RE|FW|AW|WG|TR|RV) ?: ", "", d.subject), style)),
        ("Thread-Index", "AQHa" + rand_b64(rng, 20) + "=="),
        ("Date", rfc_date(utc)),
        ("Message-ID", f"\n <{server}{rand_hex(rng, 28, upper=True)}@{fqdn}>"),
        *threading(d),
        ("Accept-Language", f"{language}, en-US"),
        ("Content-Language", language),
        ("X-MS-Has-Attach", "yes" if d.attachments or d.forwarded else ""),
        ("X-MS-TNEF-Correlator", ""),
        ("msip_labels", ""),
        (
            "authentication-results",
            f"dkim=none (message not signed)\n header.d=none;dmarc=none action=none "
            f"header.from={domain};",
        ),
        ("x-ms-publictraffictype", "Email"),
        ("x-ms-traffictypediagnostic", f"{server}:EE_|{other}:EE_"),
        ("x-ms-office365-filtering-correlation-id", network_id),
        ("x-microsoft-antispam", "BCL:0;ARA:13230040|1800799024|366016|376014|38070700018;"),
        ("x-ms-exchange-antispam-messagedata-chunkcount", "1"),
        ("x-ms-exchange-antispam-messagedata-0", "\n " + fold_b64(rand_b64(rng, 280), "\n ")),
    ]
    if d.auto_response_suppress:
        headers.append(("X-Auto-Response-Suppress", "All"))
    if d.read_receipt:
        headers.append(("Disposition-Notification-To", haddr(d.sender_name, d.sender_email, style)))
    stem = f"{server}{rand_hex(rng, 28, upper=True)}{server}{region[:4]}"
    alt_boundary = f"_000_{stem}_"
    plain = text_part(d.text, charset, label, cte)
    rich = text_part(outlook_html(d.text, label, d.lang), charset, label, cte, subtype="html")
    alternative = multipart(alt_boundary, [plain, rich])
    attachments = extra_parts(d, f"outlook:{charset}", named_rfc822=False)
    if attachments:
        mixed = f"_004_{stem}_"
        inner = Part(
            [("Content-Type", f'multipart/alternative;\n\tboundary="{alt_boundary}"')], alternative
        )
        content_type = f'multipart/mixed;\n\tboundary="{mixed}"'
        body = multipart(mixed, [inner, *attachments])
    else:
        content_type = f'multipart/alternative;\n\tboundary="{alt_boundary}"'
        body = alternative
    headers += [
        ("Content-Type", content_type),
        ("MIME-Version", "1.0"),
        ("X-OriginatorOrg", domain),
        ("X-MS-Exchange-CrossTenant-AuthAs", "Internal"),
        ("X-MS-Exchange-CrossTenant-AuthSource", fqdn),
        ("X-MS-Exchange-CrossTenant-Network-Message-Id", network_id),
        (
            "X-MS-Exchange-CrossTenant-originalarrivaltime",
            f"{utc:%d %b %Y %H:%M:%S}.{rng.randrange(1000, 9999)} (UTC)",
        ),
        ("X-MS-Exchange-CrossTenant-fromentityheader", "Hosted"),
        ("X-MS-Exchange-CrossTenant-id", uuid_text(rng)),
        ("X-MS-Exchange-CrossTenant-mailboxtype", "HOSTED"),
        ("X-MS-Exchange-Transport-CrossTenantHeadersStamped", other),
    ]
    return finish(headers, body), f"{charset}/{cte}"


def render_outlook(d: Draft) -> tuple[bytes, str]:
    """Classic Outlook for Windows sending through the company's or the ISP's SMTP server."""
    rng = d.rng
    charset, label, cte = _outlook_charset(d)
    style = HeaderStyle(charset, label, fold="\n\t")
    domain = d.sender_email.rpartition("@")[2]
    relay = f"mail.{domain}" if "example" in domain else f"smtp.{domain}"
    pc = f"DESKTOP-{rand_alnum(rng, 7, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}"
    client_ip = doc_ip(rng)
    relay_ip = doc_ip(rng)
    queue = rand_hex(rng, 11, upper=True)
    headers = arrival(d, relay, relay, relay_ip)
    headers.append(
        (
            "Received",
            f"from {pc} (p{rand_hex(rng, 7)}.tokyff01.ap.so-net.ne.jp [{client_ip}])\n"
            f"\t(Authenticated sender: {d.sender_email})\n\tby {relay} (Postfix) with ESMTPA id "
            f"{queue}\n\tfor <{d.to_email}>; {received_date(d.date + timedelta(seconds=1))}",
        )
    )
    headers += [
        ("From", haddr(d.sender_name, d.sender_email, style, quote_ascii=True)),
        ("To", f"<{d.to_email}>"),
        *threading(d),
        ("Subject", htext(d.subject, style)),
        ("Date", rfc_date(d.date)),
        (
            "Message-ID",
            f"<00{rand_hex(rng, 4)}01dab6{rand_hex(rng, 2)}${rand_hex(rng, 8)}${rand_hex(rng, 8)}"
            f"$@{domain}>",
        ),
        ("MIME-Version", "1.0"),
    ]
    boundary = f"----=_NextPart_000_{rand_hex(rng, 4, True)}_01DAB6{rand_hex(rng, 2, True)}."
    boundary += rand_hex(rng, 8, upper=True)
    plain = text_part(d.text, charset, label, cte)
    plain.headers[0] = ("Content-Type", f'text/plain;\n\tcharset="{label}"')
    rich = text_part(outlook_html(d.text, label, d.lang), charset, label, cte, subtype="html")
    rich.headers[0] = ("Content-Type", f'text/html;\n\tcharset="{label}"')
    preamble = "This is a multipart message in MIME format.\n"
    attachments = extra_parts(d, f"outlook:{charset}", named_rfc822=False)
    if attachments:
        alt = boundary.replace("_000_", "_001_")
        inner = Part(
            [("Content-Type", f'multipart/alternative;\n\tboundary="{alt}"')],
            b"\n" + multipart(alt, [plain, rich]),
        )
        content_type = f'multipart/mixed;\n\tboundary="{boundary}"'
        body = multipart(boundary, [inner, *attachments], preamble)
    else:
        content_type = f'multipart/alternative;\n\tboundary="{boundary}"'
        body = multipart(boundary, [plain, rich], preamble)
    headers += [
        ("Content-Type", content_type),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "Adq2" + rand_b64(rng, 24) + "=="),
        ("Content-Language", {"ja": "ja", "en": "en-us"}.get(d.lang, d.lang)),
    ]
    if d.auto_response_suppress:
        headers.append(("X-Auto-Response-Suppress", "All"))
    if d.read_receipt:
        headers.append(
            (
                "Disposition-Notification-To",
                haddr(d.sender_name, d.sender_email, style, quote_ascii=True),
            )
        )
    return finish(headers, body), f"{charset}/{cte}"


def render_iphone(d: Draft) -> tuple[bytes, str]:
    """iPhone Mail: one text/plain part in UTF-8, Apple-Mail boundaries for attachments."""
    rng = d.rng
    style = HeaderStyle("utf-8", "utf-8")
    cte = body_cte(d.text, "utf-8", rng)
    domain = d.sender_email.rpartition("@")[2]
    when_utc = d.date.astimezone(UTC)
    if domain in ("icloud.com", "me.com"):
        relay = f"st43p00im-ztfb{rng.randrange(10000000, 10099999)}.me.com"
        relay_ip = f"17.58.63.{rng.randrange(100, 200)}"
        inner = (
            f"from smtpclient.apple (st43p00im-dlb-asmtp-mailmevip.me.com [17.42.251.41])\n"
            f"\tby {relay} (Postfix) with ESMTPSA id {rand_hex(rng, 10, True)}\n"
            f"\tfor <{d.to_email}>; {received_date(when_utc)}"
        )
    else:
        relay = {"gmail.com": "smtp.gmail.com", "i.softbank.jp": "imap.softbank.jp"}.get(
            domain, f"smtp.{domain}"
        )
        relay_ip = doc_ip(rng)
        inner = (
            f"from smtpclient.apple ([2001:db8:{rand_hex(rng, 4)}:{rand_hex(rng, 4)}::"
            f"{rand_hex(rng, 4)}])\n        by {relay} with ESMTPSA id {rand_alnum(rng, 20)}\n"
            f"        for <{d.to_email}>; {rfc_date(d.date, zone_comment=True)}"
        )
    headers = arrival(d, relay, relay, relay_ip)
    headers.append(("Received", inner))
    message_id = f"<{uuid_text(rng, upper=True)}@{domain}>"
    top = [
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("Mime-Version", "1.0 (1.0)"),
        ("Subject", htext(d.subject, style)),
        ("Date", rfc_date(d.date)),
        ("Message-Id", message_id),
        *threading(d),
        ("To", d.to_email),
        ("X-Mailer", f"iPhone Mail ({rng.choice(('21F90', '21E236', '20H240', '21G93'))})"),
    ]
    attachments = extra_parts(d, "apple")
    if not attachments:
        plain = text_part(d.text, "utf-8", "utf-8", cte, quoted=False)
        headers += plain.headers + top
        return finish(headers, plain.body), f"utf-8/{cte}"
    boundary = f"Apple-Mail-{uuid_text(rng, upper=True)}"
    lines = d.text.rstrip("\n").split("\n")
    signature = lines[-1] if lines[-1].startswith(("iPhone", "Sent from")) else ""
    main = "\n".join(lines[:-1]) if signature else d.text
    parts = [text_part(main, "utf-8", "utf-8", cte, quoted=False)]
    parts += attachments
    if signature:
        parts.append(text_part("\n" + signature, "utf-8", "utf-8", cte, quoted=False))
    headers += [
        ("Content-Type", f"multipart/mixed; boundary={boundary}"),
        ("Content-Transfer-Encoding", "7bit"),
    ]
    headers += top
    return finish(headers, b"\n" + multipart(boundary, parts)), f"utf-8/{cte}"


def render_thunderbird(d: Draft) -> tuple[bytes, str]:
    """Thunderbird: format=flowed UTF-8 8bit, or ISO-2022-JP in older Japanese setups."""
    rng = d.rng
    old_ja = d.lang == "ja" and rng.random() < 0.35
    charset, label = ("iso-2022-jp", "ISO-2022-JP") if old_ja else ("utf-8", "UTF-8")
    cte = "7bit" if old_ja or d.text.isascii() else "8bit"
    style = HeaderStyle(charset, label)
    domain = d.sender_email.rpartition("@")[2]
    relay = f"smtp.{domain}" if "example" not in domain else f"mail.{domain}"
    relay_ip = doc_ip(rng)
    headers = arrival(d, relay, relay, relay_ip)
    headers.append(
        (
            "Received",
            f"from [192.168.{rng.randrange(0, 3)}.{rng.randrange(2, 60)}] "
            f"(p{rng.randrange(1000000, 9999999)}-ipoe.ipoe.ocn.ne.jp [{doc_ip(rng)}])\n"
            f"\t(Authenticated sender: {d.sender_email})\n\tby {relay} (Postfix) with ESMTPSA id "
            f"{rand_hex(rng, 10, True)}\n\tfor <{d.to_email}>; "
            f"{received_date(d.date + timedelta(seconds=1))}",
        )
    )
    agent = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:68.0) Gecko/20100101\n Thunderbird/68.12.0"
        if old_ja
        else rng.choice(
            (
                "Mozilla Thunderbird",
                "Mozilla Thunderbird",
                "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101\n Thunderbird/115.11.0",
            )
        )
    )
    headers += [
        ("Message-ID", f"<{uuid_text(rng)}@{domain}>"),
        ("Date", rfc_date(d.date)),
        ("MIME-Version", "1.0"),
        ("User-Agent", agent),
        *threading(d),
        ("Content-Language", {"ja": "ja", "en": "en-US"}.get(d.lang, d.lang)),
        ("To", d.to_email),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("Subject", htext(d.subject, style)),
    ]
    if d.read_receipt:
        headers.append(("Disposition-Notification-To", haddr(d.sender_name, d.sender_email, style)))
    flowed = "; format=flowed"
    attachments = extra_parts(d, "rfc2231")
    if d.report_parts is not None:
        status, original = d.report_parts
        attachments += [
            Part(
                [
                    ("Content-Type", 'message/delivery-status; name="Part 1.2"'),
                    ("Content-Disposition", 'attachment; filename="Part 1.2"'),
                ],
                status.encode(),
            ),
            Part(
                [
                    ("Content-Type", 'message/rfc822; name="Undelivered Message.eml"'),
                    ("Content-Disposition", 'attachment; filename="Undelivered Message.eml"'),
                ],
                original,
            ),
        ]
    plain = text_part(flow(d.text), charset, label, cte, params=flowed, quoted=False)
    if not attachments:
        headers += plain.headers
        return finish(headers, plain.body), f"{charset}/{cte}"
    boundary = "------------" + rand_alnum(rng, 24)
    headers.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
    body = multipart(
        boundary, [plain, *attachments], "This is a multi-part message in MIME format."
    )
    return finish(headers, body), f"{charset}/{cte}"


def render_becky(d: Draft) -> tuple[bytes, str]:
    """Becky! Internet Mail: ISO-2022-JP 7bit, Becky-style Message-Id and boundaries."""
    rng = d.rng
    style = HeaderStyle("iso-2022-jp", "ISO-2022-JP")
    domain = d.sender_email.rpartition("@")[2]
    relay = f"mail.{domain}" if "example" in domain else f"smtp.{domain}"
    headers = arrival(d, relay, relay, doc_ip(rng))
    headers.append(
        (
            "Received",
            f"from HOME-PC ([{doc_ip(rng)}])\n\t(authenticated bits=0)\n\tby {relay} "
            f"(8.15.2/8.15.2) with ESMTPSA id {rand_alnum(rng, 14)}\n\tfor <{d.to_email}>; "
            f"{rfc_date(d.date + timedelta(seconds=1), pad=True, zone_comment=True)}",
        )
    )
    headers += [
        ("Date", rfc_date(d.date, pad=True)),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("To", haddr(d.to_name, d.to_email, style)),
        *threading(d),
        ("Subject", htext(d.subject, style)),
        (
            "Message-Id",
            f"<{d.date:%Y%m%d%H%M%S}.{rand_hex(rng, 4, True)}.{rand_hex(rng, 8, True)}@{domain}>",
        ),
        ("MIME-Version", "1.0"),
    ]
    if d.read_receipt:
        headers.append(("Disposition-Notification-To", haddr(d.sender_name, d.sender_email, style)))
    plain = text_part(d.text, "iso-2022-jp", "ISO-2022-JP", "7bit")
    attachments = extra_parts(d, "encoded:ISO-2022-JP")
    if attachments:
        boundary = f"--------_{rand_hex(rng, 8, True)}000000000001_MULTIPART_MIXED_"
        headers.append(("Content-Type", f'multipart/mixed;\n boundary="{boundary}"'))
        headers.append(("Content-Transfer-Encoding", "7bit"))
        headers.append(("X-Mailer", "Becky! ver. 2.81.05 [ja]"))
        body = multipart(boundary, [plain, *attachments])
    else:
        headers += plain.headers
        headers.append(("X-Mailer", "Becky! ver. 2.81.05 [ja]"))
        body = plain.body
    return finish(headers, body), "iso-2022-jp/7bit"


def render_yahoo_jp(d: Draft) -> tuple[bytes, str]:
    """Yahoo! JAPAN mail: ISO-2022-JP 7bit (older) or UTF-8 base64 (newer)."""
    rng = d.rng
    old = rng.random() < 0.6
    charset, label, cte = (
        ("iso-2022-jp", "ISO-2022-JP", "7bit") if old else ("utf-8", "UTF-8", "base64")
    )
    style = HeaderStyle(charset, label)
    relay = f"nh{rng.randrange(100, 600)}-vm{rng.randrange(1, 9)}.bullet.mail.kks.yahoo.co.jp"
    headers = arrival(d, relay, relay, doc_ip(rng))
    stamp = int(d.date.timestamp() * 1000)
    headers += [
        (
            "DKIM-Signature",
            dkim(
                rng,
                "yahoo.co.jp",
                "yj20110701",
                "Date:From:Reply-To:To:Message-ID:Subject:MIME-Version:Content-Type",
                d.date,
            ),
        ),
        ("X-YMail-OSG", rand_b64(rng, 60)),
        ("Date", rfc_date(d.date, zone_comment=True)),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("To", d.to_email),
        (
            "Message-ID",
            f"<{rng.randrange(10**9, 10**10)}.{rng.randrange(10**4, 10**5)}."
            f"{stamp}@mail.yahoo.co.jp>",
        ),
        *threading(d),
        ("Subject", htext(d.subject, style)),
        ("MIME-Version", "1.0"),
    ]
    plain = text_part(d.text, charset, label, cte, quoted=False)
    attachments = extra_parts(d, f"encoded:{label}")
    if attachments:
        boundary = f"----=_Part_{rng.randrange(10**6, 10**7)}_{rng.randrange(10**8, 10**9)}."
        boundary += str(stamp)
        headers.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
        body = multipart(boundary, [plain, *attachments])
    else:
        headers += plain.headers
        body = plain.body
    headers.append(("X-Mailer", "Yahoo!Mail"))
    return finish(headers, body), f"{charset}/{cte}"


def render_yahoo_com(d: Draft) -> tuple[bytes, str]:
    """Yahoo Mail (yahoo.com): multipart/alternative UTF-8, YMailNorrin."""
    rng = d.rng
    style = HeaderStyle("utf-8", "UTF-8")
    cte = body_cte(d.text, "utf-8", rng)
    relay = f"sonic{rng.randrange(300, 330)}-{rng.randrange(1, 40)}.consmr.mail.gq1.yahoo.com"
    headers = arrival(d, relay, relay, f"98.137.69.{rng.randrange(2, 250)}")
    stamp = int(d.date.timestamp() * 1000)
    message_id = f"{rng.randrange(10**9, 10**10)}.{rng.randrange(10**6, 10**7)}.{stamp}"
    refs = [f"<{r}>" for r in d.references] + [f"<{message_id}@mail.yahoo.com>"]
    headers += [
        (
            "DKIM-Signature",
            dkim(
                rng,
                "yahoo.com",
                "s2048",
                "Date:From:To:Subject:References:From:Subject:Reply-To",
                d.date,
            ),
        ),
        ("X-YMail-OSG", rand_b64(rng, 60)),
        ("X-Sonic-MF", f"<{d.sender_email}>"),
        (
            "Received",
            f"from sonic.gate.mail.ne1.yahoo.com by {relay} with HTTP; "
            f"{rfc_date(d.date.astimezone(UTC))}",
        ),
        ("Date", f"{rfc_date(d.date.astimezone(UTC))} (UTC)"),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("To", f'"{d.to_email}" <{d.to_email}>'),
        ("Message-ID", f"<{message_id}@mail.yahoo.com>"),
    ]
    if d.in_reply_to:
        headers.append(("In-Reply-To", f"<{d.in_reply_to}>"))
    headers += [
        ("Subject", htext(d.subject, style)),
        ("MIME-Version", "1.0"),
    ]
    boundary = f"----=_Part_{rng.randrange(10**6, 10**7)}_{rng.randrange(10**8, 10**9)}.{stamp}"
    plain = text_part(d.text, "utf-8", "UTF-8", cte, quoted=False)
    rich = text_part(
        yahoo_html(d.text), "utf-8", "UTF-8", "quoted-printable", subtype="html", quoted=False
    )
    alternative = multipart(boundary, [plain, rich])
    attachments = extra_parts(d, "encoded:UTF-8")
    if attachments:
        mixed = boundary.replace("_Part_", "_Part_M")
        inner = Part(
            [("Content-Type", f'multipart/alternative; boundary="{boundary}"')], alternative
        )
        headers.append(("Content-Type", f'multipart/mixed; boundary="{mixed}"'))
        body = multipart(mixed, [inner, *attachments])
    else:
        headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
        body = alternative
    headers += [("References", " ".join(refs)), ("X-Mailer", "WebService/1.1.22407 YMailNorrin")]
    return finish(headers, body), f"utf-8/{cte}"


CARRIER_HOSTS = {
    "docomo": ("mfsmax.docomo.ne.jp", "docomo.ne.jp", "Shift_JIS"),
    "au": ("mss-smtp{n}.ezweb.ne.jp", "ezweb.ne.jp", "Shift_JIS"),
    "softbank": ("mmsmtp{n}.softbank.ne.jp", "softbank.ne.jp", "Shift_JIS"),
}


def render_carrier(d: Draft) -> tuple[bytes, str]:
    """Japanese carrier mail (docomo, au, SoftBank): Shift_JIS, 8bit or base64."""
    rng = d.rng
    host_pattern, id_domain, label = CARRIER_HOSTS[d.client]
    host = host_pattern.format(n=rng.randrange(1, 9))
    label = label if rng.random() < 0.6 else label.lower()
    cte = rng.choice(("8bit", "base64"))
    style = HeaderStyle("shift_jis", label)
    headers = arrival(d, host, host, doc_ip(rng))
    headers += [
        ("Date", rfc_date(d.date, zone_comment=d.client == "docomo")),
        ("From", haddr(d.sender_name, d.sender_email, style)),
        ("To", d.to_email),
        ("Subject", htext(d.subject, style)),
        ("Message-ID", f"<{d.date:%Y%m%d%H%M%S}{rand_hex(rng, 12)}@{id_domain}>"),
        *threading(d),
        ("MIME-Version", "1.0"),
    ]
    plain = text_part(d.text, "shift_jis", label, cte)
    attachments = extra_parts(d, f"encoded:{label}")
    if attachments:
        boundary = f"--_{d.client}_{rand_hex(rng, 16)}"
        headers.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
        body = multipart(boundary, [plain, *attachments])
    else:
        headers += plain.headers
        body = plain.body
    return finish(headers, body), f"shift_jis/{cte}"


RENDERERS = {
    "gmail": render_gmail,
    "outlook365": render_outlook365,
    "outlook": render_outlook,
    "iphone": render_iphone,
    "thunderbird": render_thunderbird,
    "becky": render_becky,
    "yahoo_jp": render_yahoo_jp,
    "yahoo_com": render_yahoo_com,
    "docomo": render_carrier,
    "au": render_carrier,
    "softbank": render_carrier,
}


# --------------------------------------------------------------------------- putting it together


@dataclass(frozen=True)
class Mail:
    """One generated mail and what it is made of."""

    name: str
    lang: str
    client: str
    encoding: str
    scenario: str
    wrap: str
    raw: bytes


def _fit_wrap(wrap: str, client: str) -> str:
    """Adapt a wrap to what the program can do."""
    if wrap == "fwd_parts" and client != "thunderbird":
        return "fwd_attach"
    if wrap == "fwd_attach" and client in (*CARRIERS, "becky", "yahoo_jp", "iphone"):
        return "fwd_bounce"
    return wrap


def _attachment(kind_name: str, client: str, rng: random.Random, when: datetime) -> Attachment:
    """A file of the given kind, named the way the program names it."""
    kind, _, base = kind_name.partition(":")
    if kind == "photo":
        data = jpeg(rng, base)
        if client == "iphone":
            name = f"IMG_{rng.randrange(1000, 9999)}.jpeg"
        elif client in CARRIERS:
            name = rng.choice(("image.jpg", f"DSC_{rng.randrange(1, 999):04d}.JPG"))
        elif client == "gmail" and rng.random() < 0.5:
            name = f"PXL_{when:%Y%m%d_%H%M%S}{rng.randrange(100, 999)}.jpg"
        else:
            name = f"{base}.jpg"
        return Attachment(kind, name, "image/jpeg", data)
    if kind == "screenshot":
        data = png(rng)
        if client == "iphone":
            name = f"IMG_{rng.randrange(1000, 9999)}.PNG"
        elif any(ord(ch) > 127 for ch in base):
            name = f"スクリーンショット {when:%Y-%m-%d %H%M%S}.png"
        else:
            name = f"Screenshot {when:%Y-%m-%d %H%M%S}.png"
        return Attachment(kind, name, "image/png", data)
    title = f"{base} {when:%Y-%m-%d}" if base.isascii() else f"Document {when:%Y-%m-%d}"
    return Attachment(kind, f"{base}.pdf", "application/pdf", pdf(title))


def _apply_wrap(
    d: Draft, scenario: Scenario, words: tuple[list[str], list[str]], earlier: datetime
) -> None:
    """Build subject and text for the draft's wrap around the person's own words."""
    rng, lang, client, v = d.rng, d.lang, d.client, d.values
    own = "\n\n".join(words[0] + words[1])
    if d.wrap in ("new", "paste_ndr", "paste_raw"):
        d.subject = scenario.subjects[d.visit % len(scenario.subjects)].format_map(v)
    if d.wrap == "new":
        d.text = own
    elif d.wrap == "thread":
        base = scenario.subjects[d.visit % len(scenario.subjects)].format_map(v)
        d.subject = prefix("reply", client, lang) + base
        agent_text = AGENT_REPLY[lang].format_map(v)
        shop_name = v["shop"] if lang != "ja" else f"{v['shop']} {v['agent']}"
        quoted = quote_block(
            client, lang, Earlier(shop_name, d.to_email, earlier, base, agent_text)
        )
        d.text = own + "\n\n" + quoted
        d.in_reply_to = f"{rand_hex(rng, 16)}@{d.to_email.rpartition('@')[2]}"
        d.references = [f"{rand_hex(rng, 16)}@{d.sender_email.rpartition('@')[2]}", d.in_reply_to]
    elif d.wrap in ("reply_auto", "reply_ooo"):
        if d.wrap == "reply_auto":
            subject, text = OUR_AUTO_REPLY[lang]
            who, addr = v["shop"], d.to_email
        else:
            subject, text = OOO[lang]
            who, addr = v["colleague"], v["colleague_email"]
        subject, text = subject.format_map(v), text.format_map(v)
        d.subject = prefix("reply", client, lang) + subject
        shown = Earlier(who, addr, earlier, subject, text)
        d.text = own + "\n\n" + quote_block(client, lang, shown)
        d.in_reply_to = f"{rand_hex(rng, 20)}@{addr.rpartition('@')[2]}"
        d.references = [d.in_reply_to]
    elif d.wrap in ("fwd_bounce", "fwd_attach", "fwd_parts", "paste_ndr", "paste_raw"):
        _apply_bounce(d, words, earlier)


def _apply_bounce(d: Draft, words: tuple[list[str], list[str]], earlier: datetime) -> None:
    """Forward, attach or paste a bounce the person received."""
    rng, lang, client, v = d.rng, d.lang, d.client, d.values
    head, tail = words
    bounce = BOUNCES["postfix"] if d.wrap == "paste_raw" else bounce_for(client, lang, rng)
    sender = bounce.sender.format_map(v)
    subject = bounce.subject.format_map(v)
    text = bounce.text.format_map(v)
    dsn = dsn_message(bounce, v, earlier, rng)
    lead = LEADS[d.wrap][lang if lang in LEADS[d.wrap] else "en"]
    if d.wrap.startswith("fwd"):
        d.subject = prefix("forward", client, lang) + subject
    if d.wrap == "fwd_attach":
        d.text = "\n\n".join([*head, lead, *tail])
        d.forwarded = dsn.raw
        d.forwarded_name = f"{subject}.eml"
    elif d.wrap in ("fwd_bounce", "fwd_parts"):
        block = forward_block(client, lang, Earlier(sender, v["me_email"], earlier, subject, text))
        d.text = "\n\n".join([*head, lead, *tail, block])
        if d.wrap == "fwd_parts":
            original = dsn.original + "Content-Type: text/plain; charset=us-ascii\n\n"
            d.report_parts = (dsn.status, (original + "Hello\n").encode())
    else:
        pasted = dsn.head if d.wrap == "paste_raw" else text
        d.text = "\n\n".join([*head, lead, pasted, *tail])


def make_draft(index: int, lang: str, scenario: Scenario, client: str, visit: int) -> Draft:
    """Decide everything about one mail."""
    rng = random.Random(f"{SEED}/{lang}/{index}")
    shop = SHOPS[lang][rng.randrange(len(SHOPS[lang]))]
    zone = rng.choice(ZONES[lang])
    day = BASE_DATE + timedelta(days=index // 5)
    when = datetime(
        day.year,
        day.month,
        day.day,
        rng.randrange(7, 23),
        rng.randrange(60),
        rng.randrange(60),
        tzinfo=zone,
    )
    earlier = when - timedelta(hours=rng.randrange(3, 50), minutes=rng.randrange(0, 59))
    name, email, fields = sender_for(lang, client, scenario, shop, rng)
    values = template_values(lang, shop, when, earlier, rng=rng, fields=fields)
    wrap = _fit_wrap(scenario.wraps[visit % len(scenario.wraps)], client)
    to_name = (
        ""
        if rng.random() < 0.6
        else (f"{shop.name} サポート" if lang == "ja" else f"{shop.name} Support")
    )
    draft = Draft(
        index=index,
        visit=visit,
        lang=lang,
        client=client,
        scenario=scenario.key,
        wrap=wrap,
        rng=rng,
        values=values,
        sender_name=name,
        sender_email=email,
        to_name=to_name,
        to_email=shop.email,
        date=when,
        subject="",
        text="",
    )
    words = compose_text(scenario, client, rng, values)
    _apply_wrap(draft, scenario, words, earlier)
    if scenario.attach and (visit % 2 == 0 or rng.random() < 0.4):
        draft.attachments.append(_attachment(rng.choice(scenario.attach), client, rng, when))
    if client.startswith("outlook"):
        risky = scenario.key in SUPPRESS_SCENARIOS
        draft.auto_response_suppress = risky or rng.random() < 0.4
    draft.read_receipt = client in ("outlook", "becky", "thunderbird") and rng.random() < 0.15
    return draft


def _plan() -> list[tuple[int, str, Scenario, str, int]]:
    """(index, language, scenario, program, visit) for every mail, in file order."""
    plan = []
    index = 0
    for lang, count in PLAN:
        scenarios = SCENARIOS[lang]
        visits: Counter[str] = Counter()
        pool = CLIENTS[lang]
        for i in range(count):
            scenario = scenarios[i % len(scenarios)]
            visit = visits[scenario.key]
            visits[scenario.key] += 1
            allowed = scenario.clients or pool
            client = allowed[(visit * 5 + i + scenarios.index(scenario)) % len(allowed)]
            plan.append((index, lang, scenario, client, visit))
            index += 1
    return plan


def file_name(index: int, lang: str, client: str, scenario: str) -> str:
    """``017-ja-outlook365-fuzai-renrakuhyo.eml``."""
    return f"{index + 1:03d}-{lang}-{client.replace('_', '')}-{scenario}.eml"


def build() -> list[Mail]:
    """Generate every mail in memory (deterministic)."""
    mails = []
    for index, lang, scenario, client, visit in _plan():
        draft = make_draft(index, lang, scenario, client, visit)
        raw, encoding = RENDERERS[client](draft)
        mails.append(
            Mail(
                name=file_name(index, lang, client, scenario.key),
                lang=lang,
                client=client,
                encoding=encoding,
                scenario=scenario.key,
                wrap=draft.wrap,
                raw=raw,
            )
        )
    return mails


def write(out_dir: Path) -> list[Path]:
    """Write every mail into out_dir as .eml (removing .eml files that are no longer made)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mails = build()
    names = {m.name for m in mails}
    for stale in out_dir.glob("*.eml"):
        if stale.name not in names:
            stale.unlink()
    paths = []
    for mail in mails:
        path = out_dir / mail.name
        path.write_bytes(mail.raw)
        paths.append(path)
    return paths


def summary(mails: Sequence[Mail]) -> str:
    """Counts by language, program, encoding and wrap, and the total size."""
    lines = [f"{len(mails)} mails, {sum(len(m.raw) for m in mails)} bytes"]
    for title, key in (
        ("language", "lang"),
        ("program", "client"),
        ("encoding", "encoding"),
        ("wrap", "wrap"),
    ):
        counts = Counter(getattr(m, key) for m in mails)
        lines.append(f"{title}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    digest = hashlib.sha256(b"".join(m.raw for m in mails)).hexdigest()[:16]
    lines.append(f"sha256 of all: {digest}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the mails and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=HERE)
    args = parser.parse_args(argv)
    paths = write(args.out_dir)
    print(f"wrote {len(paths)} files to {args.out_dir}")  # noqa: T201
    print(summary(build()))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
