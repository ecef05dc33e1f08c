"""Field fidelity of :func:`madoguchi.mail.parse` on real mail (issue 9).

Every field a person reads in the inbox (sender address and name, To, Cc,
subject, date, text, attachment names and sizes) is compared with expected
values that come from the upstream projects' tests (transcribed into
``tests/mail/data/fidelity/<source>.json``, each entry naming its upstream
file and lines) or that were written by hand after reading the raw mail.
Corpus mails are read from ``../shared/corpus`` (skipped when absent); the
Japanese mails of :data:`BUILT` are built here the way Gmail, Outlook, iPhone,
Thunderbird, Becky! and the docomo / au / SoftBank carriers write them.

Each source (corpus folder, or ``built``) is one test case that checks every
(mail, field) pair of it and lists every mismatch in its failure, so every
mismatch is visible (a test case per pair spent more time in pytest's set-up
than in the check).  Mismatches known today are listed with their cause in
``data/fidelity/known_failures.json``: they do not fail the test, which ends
as ``xfail`` naming them when they still happen;
:func:`test_accuracy_targets` checks the targets of the issue (99 % per field
on all mails, 100 % on the Japanese ones).  ``python -m tests.mail.test_fidelity``
prints the per-source and per-field table used in ``docs/mail/fidelity.md``.

Comparison rules (applied to expected and actual values alike): addresses
compare with the domain lower-cased; names and subjects with white space runs
collapsed and the ends stripped; ``text_contains`` snippets must occur in the
text and ``text_excludes`` snippets must not (white space runs collapsed);
dates must be the same instant with the
same UTC offset; attachments compare as a multiset of ``[name, size]`` where
``null`` means "any" (a nameless part, or a message/* part whose size depends
on serialisation).
"""

from __future__ import annotations

import base64
import itertools
import json
import quopri
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from madoguchi.mail import ParsedMail, parse

from .conftest import CORPUS, corpus_file

DATA = Path(__file__).resolve().parent / "data" / "fidelity"
KNOWN_FAILURES_FILE = DATA / "known_failures.json"
FIELDS = ("from", "from_name", "to", "cc", "subject", "date", "text", "attachments")
TARGET_ALL = 0.99
TARGET_JAPANESE = 1.0

Expected = dict[str, Any]


# --------------------------------------------------------------------------
# Mails built in the test (Japanese clients and carriers)
# --------------------------------------------------------------------------


def b64(data: bytes) -> str:
    """Base64 of ``data`` as ASCII text, without line breaks."""
    return base64.b64encode(data).decode("ascii")


def b64_lines(data: bytes, width: int = 76) -> bytes:
    """Base64 body lines of at most ``width`` characters, CRLF-terminated."""
    text = b64(data)
    return b"".join(
        text[i : i + width].encode("ascii") + b"\r\n" for i in range(0, len(text), width)
    )


def sjis_to_jis(data: bytes) -> bytes:
    """Convert CP932 double-byte codes to JIS X 0208 row/cell bytes (the CP50220 way).

    Written out by hand so that NEC row 13 characters such as ① and ㈱, which
    Python's ``iso2022_jp`` codec refuses, come out as Outlook writes them.
    """
    out = bytearray()
    for i in range(0, len(data), 2):
        lead, trail = data[i], data[i + 1]
        row = (lead - 0x70 if lead < 0xA0 else lead - 0xB0) * 2
        if trail < 0x9F:
            row -= 1
            cell = trail - 0x1F - (1 if trail > 0x7F else 0)
        else:
            cell = trail - 0x7E
        out += bytes((row, cell))
    return bytes(out)


_ESC = {"ascii": b"\x1b(B", "kana": b"\x1b(I", "jis": b"\x1b$B"}


def jis(text: str) -> bytes:
    """ISO-2022-JP bytes of ``text`` as Windows writes them (CP50221: ① ㈱ and ESC ( I kana)."""
    out = bytearray()
    mode = "ascii"
    for ch in text:
        if ord(ch) < 0x80:
            want, code = "ascii", ch.encode("ascii")
        elif 0xFF61 <= ord(ch) <= 0xFF9F:
            want, code = "kana", bytes((ch.encode("cp932")[0] - 0x80,))
        else:
            want, code = "jis", sjis_to_jis(ch.encode("cp932"))
        if want != mode:
            out += _ESC[want]
            mode = want
        out += code
    if mode != "ascii":
        out += _ESC["ascii"]
    return bytes(out)


def bword(data: bytes, charset: str) -> str:
    """One RFC 2047 B encoded-word."""
    return f"=?{charset}?B?{b64(data)}?="


def jis_words(text: str, chunk: int = 8, charset: str = "ISO-2022-JP") -> str:
    """A header value as Outlook and Becky! fold it: one ISO-2022-JP encoded-word per chunk."""
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    return "\r\n ".join(bword(jis(p), charset) for p in pieces)


def utf8_words(text: str, chunk: int = 12) -> str:
    """A header value as Gmail and iOS fold it: UTF-8 B encoded-words of whole characters."""
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    return "\r\n ".join(bword(p.encode("utf-8"), "UTF-8") for p in pieces)


def rfc2231(name: str, charset: str = "UTF-8") -> str:
    """An RFC 2231 extended ``filename*`` value."""
    return f"{charset}''" + quote(
        name.encode(charset.lower().replace("shift_jis", "cp932")), safe=""
    )


def raw_mail(headers: Iterable[str | bytes], body: bytes) -> bytes:
    """Join header lines (str must be ASCII; bytes are raw 8-bit) and a body with CRLF."""
    head = b"\r\n".join(h if isinstance(h, bytes) else h.encode("ascii") for h in headers)
    return head + b"\r\n\r\n" + body


def multipart(boundary: str, parts: Iterable[tuple[list[str], bytes]]) -> bytes:
    """A multipart body from (part headers, part body) pairs."""
    out = bytearray()
    for part_headers, part_body in parts:
        out += f"--{boundary}\r\n".encode("ascii")
        out += "\r\n".join(part_headers).encode("ascii") + b"\r\n\r\n" + part_body + b"\r\n"
    out += f"--{boundary}--\r\n".encode("ascii")
    return bytes(out)


@dataclass(frozen=True)
class Built:
    """A Japanese mail built here, with the values written down by hand."""

    key: str
    build: Callable[[], bytes]
    expected: Expected = field(default_factory=dict)


BUILT: list[Built] = []
HAND = "built in tests/mail/test_fidelity.py; values written by hand"


def built(
    key: str, source: str = HAND, **expected: Any
) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """Register a builder function together with its expectations."""

    def register(fn: Callable[[], bytes]) -> Callable[[], bytes]:
        exp: Expected = {"source": source}
        exp.update({k.rstrip("_"): v for k, v in expected.items()})
        exp["japanese"] = True
        BUILT.append(Built("built/" + key, fn, exp))
        return fn

    return register


PM = "postalsys/postal-mime@e7c35dd test/"


@built(
    "postal-mime-iso2022jp-text",
    source=PM + "postal-mime-test.js:245-261 (subject and text '学校技術員研修検討会報告')",
    subject="学校技術員研修検討会報告",
    text_contains=["学校技術員研修検討会報告"],
)
def _postal_iso2022jp_text() -> bytes:
    """postal-mime's ISO-2022-JP text test, byte for byte (LF line ends, no From)."""
    word = "GyRCM1g5OzU7PVEwdzgmPSQ4IUYkMnFKczlwGyhC"
    head = f"Content-Type: text/plain; charset=ISO-2022-JP\nSubject: =?ISO-2022-JP?B?{word}?=\n\n"
    return head.encode("ascii") + base64.b64decode(word)


@built(
    "postal-mime-iso2022jp-subject",
    source=PM + "postal-mime-test.js:263-277 (subject of three ISO-2022-JP words)",
    subject="Password:「RE: 電子メール情報漏洩対策システムテストメールです。」",
    text_contains=["hello world"],
)
def _postal_iso2022jp_subject() -> bytes:
    """postal-mime's folded ISO-2022-JP subject test."""
    return (
        b"Subject: =?ISO-2022-JP?B?UGFzc3dvcmQ6GyRCIVYbKEJSRTogGyRCRUUbKEI=?=\n"
        b"  =?ISO-2022-JP?B?GyRCO1IlYSE8JWs+cEpzTzMxTEJQOnYlNyU5JUYlYCVGGyhC?=\n"
        b"  =?ISO-2022-JP?B?GyRCJTklSCVhITwlayRHJDkhIyFXGyhC?=\n\nhello world\n"
    )


@built(
    "postal-mime-iso2022jp-split-subject",
    source=PM + "postal-mime-test.js:279-293 (ISO-2022-JP words split inside an escape run)",
    subject="Password:「RE: 電子メール情報漏洩対策システムテストメールです。」",
    text_contains=["hello world"],
)
def _postal_iso2022jp_split() -> bytes:
    """postal-mime's subject whose encoded-words split a JIS run (ESC $ B in one, text in next)."""
    return (
        b"Subject: =?ISO-2022-JP?B?UGFzc3dvcmQ6GyRCIVYbKEJSRTogGyRC?=\n"
        b"  =?ISO-2022-JP?B?RUU7UiVhITwlaz5wSnNPMzFMQlA6diU3?=\n"
        b"  =?ISO-2022-JP?B?JTklRiVgJUYlOSVIJWEhPCVrJEckOSEjIVcbKEI=?=\n\nhello world\n"
    )


@built(
    "postal-mime-cp932",
    source=PM + "postal-mime-edge-cases-test.js:34-47 (cp932 body and subject '日本語')",
    subject="日本語",
    text_contains=["日本語"],
)
def _postal_cp932() -> bytes:
    """postal-mime's cp932 label test."""
    return (
        b'Content-Type: text/plain; charset="cp932"\r\nSubject: =?cp932?B?k/qWe4zq?=\r\n\r\n'
        + base64.b64decode("k/qWe4zq")
    )


GMAIL_TEXT = (
    "田中様\n\nお世話になっております。山田です。\n"
    "見積書を添付いたします。\nご確認のほどよろしくお願いいたします。\n"
)


@built(
    "gmail-utf8-alternative",
    from_="taro.yamada@gmail.com",
    from_name="山田太郎",
    to=["tanaka@example.co.jp"],
    cc=["sales@example.co.jp"],
    subject="お見積りの件（6月分）",
    date="2024-06-03T10:15:30+09:00",
    text_contains=["お世話になっております。山田です。", "ご確認のほどよろしくお願いいたします。"],
    attachments=[],
)
def _gmail_alternative() -> bytes:
    """Gmail: UTF-8 B encoded-words, multipart/alternative, base64 bodies."""
    html = '<div dir="ltr">' + GMAIL_TEXT.replace("\n", "<br>") + "</div>"
    body = multipart(
        "000000000000a1b2c3d4e5f60718",
        [
            (
                ['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: base64"],
                b64_lines(GMAIL_TEXT.encode("utf-8")),
            ),
            (
                ['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: base64"],
                b64_lines(html.encode("utf-8")),
            ),
        ],
    )
    return raw_mail(
        [
            "MIME-Version: 1.0",
            "Date: Mon, 3 Jun 2024 10:15:30 +0900",
            "Message-ID: <CAF1a2b3c4d5e6f7g8h9@mail.gmail.com>",
            "Subject: " + utf8_words("お見積りの件（6月分）"),
            "From: " + bword("山田太郎".encode(), "UTF-8") + " <taro.yamada@gmail.com>",
            "To: " + bword("田中 花子".encode(), "UTF-8") + " <tanaka@example.co.jp>",
            "Cc: sales@example.co.jp",
            'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"',
        ],
        body,
    )


@built(
    "gmail-utf8-attachment",
    from_="taro.yamada@gmail.com",
    from_name="山田太郎",
    to=["tanaka@example.co.jp"],
    subject="Re: お見積りの件（6月分）",
    date="2024-06-03T11:02:07+09:00",
    text_contains=["見積書を添付いたします。"],
    attachments=[["見積書_2024年6月.pdf", 1200], ["会議メモ.txt", 50]],
)
def _gmail_attachment() -> bytes:
    """Gmail: mixed with a PDF named in RFC 2047 (name=) and RFC 2231 (filename*=)."""
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"x" * (1200 - 9 - 1024)
    memo = "議題：来期の予算\n出席：山田、田中\n".encode()
    pdf_name = "見積書_2024年6月.pdf"
    memo_name = "会議メモ.txt"
    body = multipart(
        "000000000000f1e2d3c4b5a69788",
        [
            (
                ['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: base64"],
                b64_lines(GMAIL_TEXT.encode("utf-8")),
            ),
            (
                [
                    f'Content-Type: application/pdf; name="{bword(pdf_name.encode(), "UTF-8")}"',
                    f"Content-Disposition: attachment; filename*={rfc2231(pdf_name)}",
                    "Content-Transfer-Encoding: base64",
                    "X-Attachment-Id: f_lx0abc1",
                ],
                b64_lines(pdf),
            ),
            (
                [
                    'Content-Type: text/plain; charset="UTF-8";\r\n'
                    f' name="{bword(memo_name.encode(), "UTF-8")}"',
                    f"Content-Disposition: attachment; filename*={rfc2231(memo_name)}",
                    "Content-Transfer-Encoding: base64",
                ],
                b64_lines(memo),
            ),
        ],
    )
    return raw_mail(
        [
            "MIME-Version: 1.0",
            "Date: Mon, 3 Jun 2024 11:02:07 +0900",
            "Subject: Re: " + utf8_words("お見積りの件（6月分）"),
            "From: " + bword("山田太郎".encode(), "UTF-8") + " <taro.yamada@gmail.com>",
            "To: tanaka@example.co.jp",
            'Content-Type: multipart/mixed; boundary="000000000000f1e2d3c4b5a69788"',
        ],
        body,
    )


OUTLOOK_TEXT = "各位\r\n\r\n①会議室の予約\r\n②資料の準備\r\n\r\n㈱山田商事 営業部\r\n"


@built(
    "outlook-iso2022jp-windows-chars",
    from_="suzuki@yamada-shoji.co.jp",
    from_name="鈴木 一郎（㈱山田商事）",
    to=["all@yamada-shoji.co.jp"],
    subject="【重要】①会議室と②資料について",
    date="2024-06-04T09:00:00+09:00",
    text_contains=["①会議室の予約", "②資料の準備", "㈱山田商事 営業部"],
    attachments=[],
)
def _outlook_windows_chars() -> bytes:
    """Outlook (Windows): ISO-2022-JP 7bit with NEC row 13 characters (CP50220)."""
    return raw_mail(
        [
            "From: " + jis_words("鈴木 一郎（㈱山田商事）") + " <suzuki@yamada-shoji.co.jp>",
            "To: all@yamada-shoji.co.jp",
            "Subject: " + jis_words("【重要】①会議室と②資料について"),
            "Date: Tue, 4 Jun 2024 09:00:00 +0900",
            "Message-ID: <000001dab1c2$3d4e5f60$b8eb1b20$@yamada-shoji.co.jp>",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="iso-2022-jp"',
            "Content-Transfer-Encoding: 7bit",
            "X-Mailer: Microsoft Outlook 16.0",
            "Content-Language: ja",
        ],
        jis(OUTLOOK_TEXT),
    )


@built(
    "outlook-iso2022jp-attachment-rfc2047-name",
    from_="sato@example.co.jp",
    from_name="佐藤 花子",
    to=["yamada@example.jp", "tanaka@example.jp"],
    cc=["bucho@example.co.jp"],
    subject="議事録送付のご連絡",
    date="2024-06-05T17:45:12+09:00",
    text_contains=["議事録を送付いたします。"],
    attachments=[["議事録_0605.docx", 900], ["ｱﾝｹｰﾄ集計.xlsx", 700]],
)
def _outlook_attachment() -> bytes:
    """Outlook: ISO-2022-JP body, file names as RFC 2047 words inside quoted parameters."""
    text = "山田様、田中様\r\n\r\n議事録を送付いたします。\r\n\r\n佐藤\r\n"
    docx = b"PK\x03\x04" + b"\x00" * 896
    xlsx = b"PK\x03\x04" + b"\x01" * 696
    names = ["議事録_0605.docx", "ｱﾝｹｰﾄ集計.xlsx"]
    parts = [
        (
            ['Content-Type: text/plain; charset="iso-2022-jp"', "Content-Transfer-Encoding: 7bit"],
            jis(text),
        )
    ]
    for name, data, ctype in zip(
        names,
        [docx, xlsx],
        [
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
        strict=True,
    ):
        word = bword(jis(name), "iso-2022-jp")
        parts.append(
            (
                [
                    f'Content-Type: {ctype};\r\n\tname="{word}"',
                    f'Content-Disposition: attachment;\r\n\tfilename="{word}"',
                    "Content-Transfer-Encoding: base64",
                ],
                b64_lines(data),
            )
        )
    return raw_mail(
        [
            "From: " + jis_words("佐藤 花子") + " <sato@example.co.jp>",
            "To: "
            + jis_words("山田 太郎")
            + " <yamada@example.jp>,\r\n\t"
            + jis_words("田中 次郎")
            + " <tanaka@example.jp>",
            "CC: " + jis_words("部長") + " <bucho@example.co.jp>",
            "Subject: " + jis_words("議事録送付のご連絡", chunk=5),
            "Date: Wed, 5 Jun 2024 17:45:12 +0900",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed;\r\n\t"
            'boundary="----=_NextPart_000_0012_01DAB7A1.2C3D4E50"',
            "X-Mailer: Microsoft Outlook 16.0",
        ],
        multipart("----=_NextPart_000_0012_01DAB7A1.2C3D4E50", parts),
    )


@built(
    "outlook-utf8-qp-html",
    from_="kobayashi@example.com",
    from_name="小林 誠",
    to=["support@example.jp"],
    subject="ログインできません",
    date="2024-06-06T08:30:00+00:00",
    text_contains=["昨日からログインできなくなりました。", "よろしくお願いします。"],
    attachments=[],
)
def _outlook_utf8_html() -> bytes:
    """New Outlook: UTF-8 quoted-printable multipart/alternative, subject as UTF-8 B words."""
    plain = "昨日からログインできなくなりました。\r\nよろしくお願いします。\r\n"
    html = (
        "<html><body><p>昨日からログインできなくなりました。</p>"
        "<p>よろしくお願いします。</p></body></html>"
    )
    body = multipart(
        "_000_OS3P286MB1234ABCDEF_",
        [
            (
                [
                    'Content-Type: text/plain; charset="utf-8"',
                    "Content-Transfer-Encoding: quoted-printable",
                ],
                quopri.encodestring(plain.encode("utf-8")),
            ),
            (
                [
                    'Content-Type: text/html; charset="utf-8"',
                    "Content-Transfer-Encoding: quoted-printable",
                ],
                quopri.encodestring(html.encode("utf-8")),
            ),
        ],
    )
    return raw_mail(
        [
            "From: " + bword("小林 誠".encode(), "utf-8") + " <kobayashi@example.com>",
            "To: support@example.jp",
            "Subject: " + bword("ログインできません".encode(), "utf-8"),
            "Date: Thu, 6 Jun 2024 08:30:00 +0000",
            'Content-Type: multipart/alternative; boundary="_000_OS3P286MB1234ABCDEF_"',
            "MIME-Version: 1.0",
        ],
        body,
    )


@built(
    "iphone-utf8-photo",
    from_="hanako.iphone@icloud.com",
    from_name="花子",
    to=["shop@example.jp"],
    subject="商品が届きました",
    date="2024-06-07T21:14:03+09:00",
    text_contains=["本日商品が届きました。", "写真を添付します。"],
    attachments=[["写真 2024-06-07 21.13.55.jpeg", 640]],
)
def _iphone_photo() -> bytes:
    """iPhone Mail: UTF-8 quoted-printable text, photo named with RFC 2231 (filename*=utf-8'')."""
    text = "本日商品が届きました。\r\n写真を添付します。\r\n\r\niPhoneから送信\r\n"
    photo = b"\xff\xd8\xff\xe0" + b"\x10" * 636
    name = "写真 2024-06-07 21.13.55.jpeg"
    body = multipart(
        "Apple-Mail-1A2B3C4D-5E6F-7081-92A3-B4C5D6E7F809",
        [
            (
                [
                    "Content-Type: text/plain;\r\n\tcharset=utf-8",
                    "Content-Transfer-Encoding: quoted-printable",
                ],
                quopri.encodestring(text.encode("utf-8")),
            ),
            (
                [
                    f"Content-Type: image/jpeg;\r\n\tname*={rfc2231(name, 'utf-8')}",
                    f"Content-Disposition: attachment;\r\n\tfilename*={rfc2231(name, 'utf-8')}",
                    "Content-Transfer-Encoding: base64",
                ],
                b64_lines(photo),
            ),
        ],
    )
    return raw_mail(
        [
            "Content-Type: multipart/mixed;\r\n\t"
            'boundary="Apple-Mail-1A2B3C4D-5E6F-7081-92A3-B4C5D6E7F809"',
            "Content-Transfer-Encoding: 7bit",
            "From: " + bword("花子".encode(), "utf-8") + " <hanako.iphone@icloud.com>",
            "Mime-Version: 1.0 (1.0)",
            "Date: Fri, 7 Jun 2024 21:14:03 +0900",
            "Subject: " + bword("商品が届きました".encode(), "utf-8"),
            "Message-Id: <5F6E7D8C-9BAA-4B3C-8D2E-1F0A9B8C7D6E@icloud.com>",
            "To: shop@example.jp",
            "X-Mailer: iPhone Mail (21F90)",
        ],
        body,
    )


@built(
    "thunderbird-utf8-flowed-rfc2231-continuations",
    from_="nakamura@example.org",
    from_name="中村 健",
    to=["dev@example.org"],
    subject="テスト結果の報告：全項目合格",
    date="2024-06-10T13:05:44+09:00",
    text_contains=["テストはすべて合格しました。", "詳細は添付の報告書をご覧ください。"],
    attachments=[["結合テスト報告書_第二版_最終確認済み.txt", 64]],
)
def _thunderbird_utf8() -> bytes:
    """Thunderbird: UTF-8 8bit format=flowed, long name in RFC 2231 continuations."""
    text = (
        "テストはすべて合格しました。 \r\n詳細は添付の報告書をご覧ください。\r\n\r\n-- \r\n中村\r\n"
    )
    name = "結合テスト報告書_第二版_最終確認済み.txt"
    enc = rfc2231(name)[len("UTF-8''") :]
    cut = enc.index("%E7%AC%AC")
    report = ("項目：全件合格\r\n" * 3).encode()[:64]
    body = multipart(
        "------------Q1w2E3r4T5y6U7i8O9p0",
        [
            (
                [
                    "Content-Type: text/plain; charset=UTF-8; format=flowed",
                    "Content-Transfer-Encoding: 8bit",
                ],
                text.encode("utf-8"),
            ),
            (
                [
                    "Content-Type: text/plain; charset=UTF-8;\r\n"
                    f' name="{bword(name.encode(), "UTF-8")}"',
                    "Content-Disposition: attachment;\r\n filename*0*=UTF-8''"
                    + enc[:cut]
                    + ";\r\n filename*1*="
                    + enc[cut:],
                    "Content-Transfer-Encoding: base64",
                ],
                b64_lines(report),
            ),
        ],
    )
    return raw_mail(
        [
            'Content-Type: multipart/mixed; boundary="------------Q1w2E3r4T5y6U7i8O9p0"',
            "Message-ID: <a1b2c3d4-e5f6-4789-abcd-ef0123456789@example.org>",
            "Date: Mon, 10 Jun 2024 13:05:44 +0900",
            "MIME-Version: 1.0",
            "User-Agent: Mozilla Thunderbird",
            "Content-Language: ja",
            "To: dev@example.org",
            "From: " + utf8_words("中村 健") + " <nakamura@example.org>",
            "Subject: " + utf8_words("テスト結果の報告：全項目合格", chunk=7),
        ],
        body,
    )


@built(
    "thunderbird-iso2022jp-flowed",
    from_="ito@example.ne.jp",
    from_name="伊藤",
    to=["ml@example.ne.jp"],
    subject="Re: [ml:01234] 次回の勉強会",
    date="2024-06-11T22:10:00+09:00",
    text_contains=["次回は7月13日（土）に開催します。", "> 日程はいつですか？"],
    attachments=[],
)
def _thunderbird_iso2022jp() -> bytes:
    """Older Thunderbird (ja locale): ISO-2022-JP 7bit, format=flowed; delsp=yes, quoted reply."""
    text = "伊藤です。\r\n\r\n> 日程はいつですか？\r\n\r\n次回は7月13日（土）に開催します。\r\n"
    return raw_mail(
        [
            "Date: Tue, 11 Jun 2024 22:10:00 +0900",
            "From: " + bword(jis("伊藤"), "ISO-2022-JP") + " <ito@example.ne.jp>",
            "User-Agent: Mozilla/5.0 Thunderbird/115.11.0",
            "MIME-Version: 1.0",
            "To: ml@example.ne.jp",
            "Subject: Re: [ml:01234] " + bword(jis("次回の勉強会"), "ISO-2022-JP"),
            "Content-Type: text/plain; charset=ISO-2022-JP; format=flowed; delsp=yes",
            "Content-Transfer-Encoding: 7bit",
        ],
        jis(text),
    )


@built(
    "becky-iso2022jp-attachment",
    from_="kato@example.jp",
    from_name="加藤 美咲",
    to=["info@example.co.jp"],
    subject="資料請求（パンフレット希望）",
    date="2024-06-12T10:20:30+09:00",
    text_contains=["パンフレットを１部お送りください。", "〒150-0001 東京都渋谷区神宮前1-2-3"],
    attachments=[["申込書.pdf", 300]],
)
def _becky() -> bytes:
    """Becky!: ISO-2022-JP, name= and filename= as ISO-2022-JP encoded-words."""
    text = (
        "ご担当者様\r\n\r\nパンフレットを１部お送りください。\r\n"
        "送付先：〒150-0001 東京都渋谷区神宮前1-2-3\r\n"
    )
    pdf = b"%PDF-1.3\n" + b"0" * 291
    word = bword(jis("申込書.pdf"), "ISO-2022-JP")
    body = multipart(
        "Boundary_(ID_Becky_5A6B7C8D)",
        [
            (
                [
                    "Content-Type: text/plain; charset=ISO-2022-JP",
                    "Content-Transfer-Encoding: 7bit",
                ],
                jis(text),
            ),
            (
                [
                    f'Content-Type: application/pdf;\r\n name="{word}"',
                    "Content-Transfer-Encoding: base64",
                    f'Content-Disposition: attachment;\r\n filename="{word}"',
                ],
                b64_lines(pdf),
            ),
        ],
    )
    return raw_mail(
        [
            "Date: Wed, 12 Jun 2024 10:20:30 +0900",
            "From: " + jis_words("加藤 美咲") + " <kato@example.jp>",
            "To: info@example.co.jp",
            "Subject: " + jis_words("資料請求（パンフレット希望）", chunk=6),
            "Message-Id: <20240612102030.1A2B.KATO@example.jp>",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="Boundary_(ID_Becky_5A6B7C8D)"',
            "X-Mailer: Becky! ver. 2.81.06 [ja]",
        ],
        body,
    )


@built(
    "docomo-shift-jis",
    from_="hanako-0123@docomo.ne.jp",
    from_name="",
    to=["reserve@example.jp"],
    subject="予約の変更をお願いします",
    date="2024-06-13T18:02:11+09:00",
    text_contains=["明日の予約を１９時に変更できますか？", "山田"],
    attachments=[],
)
def _docomo() -> bytes:
    """docomo (sp-mode): Shift_JIS 8bit body, Shift_JIS B encoded-word subject, bare From."""
    text = "明日の予約を１９時に変更できますか？\r\n山田\r\n"
    return raw_mail(
        [
            "Date: Thu, 13 Jun 2024 18:02:11 +0900",
            "From: hanako-0123@docomo.ne.jp",
            "To: reserve@example.jp",
            "Subject: " + bword("予約の変更をお願いします".encode("cp932"), "Shift_JIS"),
            "Message-ID: <6e.1a.2b3c4d5e.0@docomo.ne.jp>",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="Shift_JIS"',
            "Content-Transfer-Encoding: 8bit",
        ],
        text.encode("cp932"),
    )


@built(
    "au-ezweb-iso2022jp-image",
    from_="taro_k@ezweb.ne.jp",
    from_name="",
    to=["photo@example.jp"],
    subject="写真です",
    date="2024-06-14T07:45:00+09:00",
    text_contains=["今朝の富士山です。"],
    attachments=[["fuji.jpg", 500]],
)
def _au() -> bytes:
    """au (EZweb): ISO-2022-JP subject and body with an image attachment."""
    photo = b"\xff\xd8\xff\xe1" + b"\x22" * 496
    body = multipart(
        "--=_ezweb_1718318700_0",
        [
            (
                [
                    'Content-Type: text/plain; charset="ISO-2022-JP"',
                    "Content-Transfer-Encoding: 7bit",
                ],
                jis("今朝の富士山です。\r\n"),
            ),
            (
                [
                    'Content-Type: image/jpeg; name="fuji.jpg"',
                    "Content-Transfer-Encoding: base64",
                    'Content-Disposition: attachment; filename="fuji.jpg"',
                ],
                b64_lines(photo),
            ),
        ],
    )
    return raw_mail(
        [
            "From: taro_k@ezweb.ne.jp",
            "To: photo@example.jp",
            "Subject: " + bword(jis("写真です"), "ISO-2022-JP"),
            "Date: Fri, 14 Jun 2024 07:45:00 +0900",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="--=_ezweb_1718318700_0"',
        ],
        body,
    )


@built(
    "softbank-shift-jis-base64",
    from_="ichiro.s@softbank.ne.jp",
    from_name="鈴木",
    to=["shop@example.jp"],
    subject="注文番号ＡＢ１２３について",
    date="2024-06-15T12:00:01+09:00",
    text_contains=["注文番号ＡＢ１２３の配送状況を教えてください。"],
    attachments=[],
)
def _softbank() -> bytes:
    """SoftBank handset: Shift_JIS base64 body, full-width alphanumerics."""
    text = "注文番号ＡＢ１２３の配送状況を教えてください。\r\n"
    return raw_mail(
        [
            "From: " + bword("鈴木".encode("cp932"), "Shift_JIS") + " <ichiro.s@softbank.ne.jp>",
            "To: shop@example.jp",
            "Subject: " + bword("注文番号ＡＢ１２３について".encode("cp932"), "Shift_JIS"),
            "Date: Sat, 15 Jun 2024 12:00:01 +0900",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=Shift_JIS",
            "Content-Transfer-Encoding: base64",
        ],
        b64_lines(text.encode("cp932")),
    )


@built(
    "euc-jp-unix-mailer",
    from_="kimura@example.ac.jp",
    from_name="木村 直樹",
    to=["lab@example.ac.jp"],
    subject="ゼミ資料の修正版",
    date="2024-06-16T09:09:09+09:00",
    text_contains=["ゼミ資料の修正版を共有します。", "第３章の図を差し替えました。"],
    attachments=[],
)
def _euc_jp() -> bytes:
    """Mew / Wanderlust style: EUC-JP 8bit body, EUC-JP B encoded-words."""
    text = "ゼミ資料の修正版を共有します。\n第３章の図を差し替えました。\n"
    return raw_mail(
        [
            "From: " + bword("木村 直樹".encode("euc_jp"), "EUC-JP") + " <kimura@example.ac.jp>",
            "To: lab@example.ac.jp",
            "Subject: " + bword("ゼミ資料の修正版".encode("euc_jp"), "EUC-JP"),
            "Date: Sun, 16 Jun 2024 09:09:09 +0900",
            "Mime-Version: 1.0",
            "Content-Type: Text/Plain; charset=euc-jp",
            "Content-Transfer-Encoding: 8bit",
            "X-Mailer: Mew version 6.8 on Emacs 28.2",
        ],
        text.encode("euc_jp"),
    )


@built(
    "iso2022jp-q-encoded-subject",
    from_="yoshida@example.jp",
    from_name="吉田",
    to=["info@example.jp"],
    subject="お問い合わせ（製品Ａについて）",
    date="2024-06-17T15:30:00+09:00",
    text_contains=["製品Ａの在庫はありますか。"],
    attachments=[],
)
def _iso2022jp_q() -> bytes:
    """ISO-2022-JP encoded-words in the Q encoding (legal, seen from web forms)."""
    q = "".join(
        f"={b:02X}" if b < 0x21 or b > 0x7E or b in b"=?_" else chr(b)
        for b in jis("お問い合わせ（製品Ａについて）")
    )
    return raw_mail(
        [
            "From: " + bword(jis("吉田"), "ISO-2022-JP") + " <yoshida@example.jp>",
            "To: info@example.jp",
            f"Subject: =?ISO-2022-JP?Q?{q}?=",
            "Date: Mon, 17 Jun 2024 15:30:00 +0900",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=ISO-2022-JP",
            "Content-Transfer-Encoding: 7bit",
        ],
        jis("製品Ａの在庫はありますか。\r\n"),
    )


@built(
    "utf8-word-split-mid-character",
    from_="noreply@example-shop.jp",
    from_name="サンプルショップ",
    to=["customer@example.com"],
    subject="【サンプルショップ】ご注文ありがとうございます",
    date="2024-06-18T04:00:00+09:00",
    text_contains=["ご注文を承りました。"],
    attachments=[],
)
def _utf8_split() -> bytes:
    """A shop system that cuts UTF-8 encoded-words by bytes, splitting characters."""
    data = "【サンプルショップ】ご注文ありがとうございます".encode()
    cut = [0, 10, 25, 44, len(data)]
    words = [bword(data[a:b], "UTF-8") for a, b in itertools.pairwise(cut)]
    return raw_mail(
        [
            "From: " + bword("サンプルショップ".encode(), "UTF-8") + " <noreply@example-shop.jp>",
            "To: customer@example.com",
            "Subject: " + "\r\n ".join(words),
            "Date: Tue, 18 Jun 2024 04:00:00 +0900",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
        ],
        b64_lines("ご注文を承りました。\n".encode()),
    )


@built(
    "raw-utf8-headers",
    from_="yamamoto@example.jp",
    from_name="山本 陽子",
    to=["desk@example.jp"],
    subject="請求書の再発行について",
    date="2024-06-19T11:11:11+09:00",
    text_contains=["請求書を再発行してください。"],
    attachments=[],
)
def _raw_utf8() -> bytes:
    """A web form mailer writing raw 8-bit UTF-8 headers (RFC 6532 style, no encoded-words)."""
    return raw_mail(
        [
            "From: 山本 陽子 <yamamoto@example.jp>".encode(),
            b"To: desk@example.jp",
            "Subject: 請求書の再発行について".encode(),
            b"Date: Wed, 19 Jun 2024 11:11:11 +0900",
            b"MIME-Version: 1.0",
            b"Content-Type: text/plain; charset=UTF-8",
            b"Content-Transfer-Encoding: 8bit",
        ],
        "請求書を再発行してください。\n".encode(),
    )


@built(
    "raw-shift-jis-subject",
    from_="matsumoto@example.jp",
    from_name="",
    to=["sales@example.jp"],
    subject="見積もり依頼",
    date="2024-06-20T16:40:00+09:00",
    text_contains=["見積もりをお願いします。"],
    attachments=[],
)
def _raw_sjis_subject() -> bytes:
    """An old Windows mailer writing a raw Shift_JIS subject (no encoded-word, no charset)."""
    return raw_mail(
        [
            b"From: matsumoto@example.jp",
            b"To: sales@example.jp",
            b"Subject: " + "見積もり依頼".encode("cp932"),
            b"Date: Thu, 20 Jun 2024 16:40:00 +0900",
            b"MIME-Version: 1.0",
            b"Content-Type: text/plain; charset=Shift_JIS",
            b"Content-Transfer-Encoding: 8bit",
        ],
        "見積もりをお願いします。\r\n".encode("cp932"),
    )


@built(
    "raw-shift-jis-attachment-name",
    from_="tanabe@example.jp",
    from_name="田辺",
    to=["office@example.jp"],
    subject="経費精算書",
    date="2024-06-21T10:00:00+09:00",
    text_contains=["経費精算書を送ります。"],
    attachments=[["経費精算書_6月.xls", 256]],
)
def _raw_sjis_name() -> bytes:
    """An old mailer putting a raw Shift_JIS file name into name= and filename=."""
    xls = b"\xd0\xcf\x11\xe0" + b"\x00" * 252
    name = "経費精算書_6月.xls".encode("cp932")
    text = "経費精算書を送ります。\r\n".encode("cp932")
    head = (
        b'Content-Type: application/vnd.ms-excel; name="' + name + b'"\r\n'
        b'Content-Disposition: attachment; filename="' + name + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    body = (
        b"--sjis-boundary\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + text
        + b"\r\n--sjis-boundary\r\n"
        + head
        + b64_lines(xls)
        + b"\r\n--sjis-boundary--\r\n"
    )
    return raw_mail(
        [
            "From: " + bword("田辺".encode("cp932"), "Shift_JIS") + " <tanabe@example.jp>",
            "To: office@example.jp",
            "Subject: " + bword("経費精算書".encode("cp932"), "Shift_JIS"),
            "Date: Fri, 21 Jun 2024 10:00:00 +0900",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="sjis-boundary"',
        ],
        body,
    )


@built(
    "iso2022jp-halfwidth-kana-body",
    from_="store@example.jp",
    from_name="ｻﾝﾌﾟﾙｽﾄｱ",
    to=["member@example.jp"],
    subject="ｾｰﾙのお知らせ",
    date="2024-06-22T09:30:00+09:00",
    text_contains=["ｻﾏｰｾｰﾙ開催中！", "全品２０％ＯＦＦ"],
    attachments=[],
)
def _halfwidth_kana() -> bytes:
    """A Windows mailer using half-width katakana in ISO-2022-JP (ESC ( I, CP50221)."""
    return raw_mail(
        [
            "From: " + bword(jis("ｻﾝﾌﾟﾙｽﾄｱ"), "ISO-2022-JP") + " <store@example.jp>",
            "To: member@example.jp",
            "Subject: " + bword(jis("ｾｰﾙのお知らせ"), "ISO-2022-JP"),
            "Date: Sat, 22 Jun 2024 09:30:00 +0900",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=ISO-2022-JP",
            "Content-Transfer-Encoding: 7bit",
        ],
        jis("ｻﾏｰｾｰﾙ開催中！\r\n全品２０％ＯＦＦ\r\n"),
    )


@built(
    "windows-31j-label",
    from_="hr@example.co.jp",
    from_name="人事部",
    to=["staff@example.co.jp"],
    subject="健康診断のご案内（第１回）",
    date="2024-06-24T08:00:00+09:00",
    text_contains=["①受付　8:30～", "②場所　本社３階"],
    attachments=[],
)
def _windows_31j() -> bytes:
    """Java mail (JavaMail default on Windows): Windows-31J label, ① and ～ (U+FF5E) in the body."""
    text = "各位\r\n①受付　8:30～\r\n②場所　本社３階\r\n"
    return raw_mail(
        [
            "From: " + bword("人事部".encode("cp932"), "Windows-31J") + " <hr@example.co.jp>",
            "To: staff@example.co.jp",
            "Subject: " + bword("健康診断のご案内（第１回）".encode("cp932"), "Windows-31J"),
            "Date: Mon, 24 Jun 2024 08:00:00 +0900",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=Windows-31J",
            "Content-Transfer-Encoding: 8bit",
            "X-Mailer: JavaMail",
        ],
        text.encode("cp932"),
    )


@built(
    "outlook-forwarded-message",
    from_="okada@example.co.jp",
    from_name="岡田",
    to=["legal@example.co.jp"],
    subject="FW: 契約書の件",
    date="2024-06-25T14:14:14+09:00",
    text_contains=["転送します。ご確認ください。"],
    attachments=[[None, None]],
)
def _outlook_forward() -> bytes:
    """Outlook forwarding as attachment: the original ISO-2022-JP mail is a message/rfc822 part."""
    inner = raw_mail(
        [
            "From: " + bword(jis("取引先"), "iso-2022-jp") + " <partner@example.com>",
            "To: okada@example.co.jp",
            "Subject: " + bword(jis("契約書の件"), "iso-2022-jp"),
            "Date: Tue, 25 Jun 2024 10:00:00 +0900",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="iso-2022-jp"',
        ],
        jis("契約書をお送りします。\r\n"),
    )
    body = multipart(
        "----=_NextPart_000_0099_01DAC6F0.11223344",
        [
            (
                [
                    'Content-Type: text/plain; charset="iso-2022-jp"',
                    "Content-Transfer-Encoding: 7bit",
                ],
                jis("転送します。ご確認ください。\r\n"),
            ),
            (["Content-Type: message/rfc822", "Content-Disposition: attachment"], inner),
        ],
    )
    return raw_mail(
        [
            "From: " + bword(jis("岡田"), "iso-2022-jp") + " <okada@example.co.jp>",
            "To: legal@example.co.jp",
            "Subject: FW: " + bword(jis("契約書の件"), "iso-2022-jp"),
            "Date: Tue, 25 Jun 2024 14:14:14 +0900",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed;\r\n\t"
            'boundary="----=_NextPart_000_0099_01DAC6F0.11223344"',
            "X-Mailer: Microsoft Outlook 16.0",
        ],
        body,
    )


# --------------------------------------------------------------------------
# Loading expectations
# --------------------------------------------------------------------------


def _load_json(path: Path) -> dict[str, Any]:
    """Read one expectation file."""
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def expectation_files() -> list[Path]:
    """The per-source expectation files (everything but the known failures)."""
    return sorted(p for p in DATA.glob("*.json") if p != KNOWN_FAILURES_FILE)


@cache
def expectations() -> dict[str, Expected]:
    """All expectations by key: ``<source>/<path under corpus>`` or ``built/<name>``."""
    out: dict[str, Expected] = {}
    for path in expectation_files():
        for key, exp in _load_json(path).items():
            if not key.startswith(path.stem + "/"):
                raise ValueError(f"{path.name}: key {key!r} must start with {path.stem}/")
            out[key] = exp
    for item in BUILT:
        out[item.key] = item.expected
    return out


@cache
def known_failures() -> dict[str, str]:
    """Reasons for today's mismatches, by ``<key>|<field>``."""
    if not KNOWN_FAILURES_FILE.exists():
        return {}
    return {k: v for k, v in _load_json(KNOWN_FAILURES_FILE).items() if not k.startswith("_")}


def source_of(key: str) -> str:
    """The corpus source folder (or 'built') of an expectation key."""
    return key.split("/", 1)[0]


def is_japanese(key: str) -> bool:
    """Whether the mail counts toward the Japanese target."""
    return bool(expectations()[key].get("japanese"))


def raw_of(key: str) -> bytes:
    """Raw bytes of a mail: built here or read from the corpus (skipping when absent)."""
    for item in BUILT:
        if item.key == key:
            return item.build()
    return corpus_file(key)


@cache
def parsed(key: str) -> ParsedMail:
    """parse() of one mail, once per session."""
    return parse(raw_of(key))


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------


def short(value: Any, limit: int = 300) -> str:
    """``repr`` of a value, cut for failure messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def squash(text: str | None) -> str:
    """Collapse white space runs and strip the ends."""
    return re.sub(r"\s+", " ", text or "").strip()


def norm_address(addr: str | None) -> str | None:
    """An address with its domain lower-cased (domains are case-insensitive)."""
    if addr is None:
        return None
    local, at, domain = addr.strip().rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else addr.strip()


def actual_value(mail: ParsedMail, name: str) -> Any:
    """The value of one compared field, in the form the expectations use."""
    sender = mail.sender
    values: dict[str, Callable[[], Any]] = {
        "from": lambda: sender.email if sender else None,
        "from_name": lambda: sender.name if sender else None,
        "to": lambda: [a.email for a in mail.to],
        "cc": lambda: [a.email for a in mail.cc],
        "subject": lambda: mail.subject,
        "date": lambda: mail.date.isoformat() if mail.date else None,
        "text": lambda: mail.text,
        "attachments": lambda: [[a.filename, a.size] for a in mail.attachments],
    }
    return values[name]()


def _dates_equal(got: str | None, want: str | None) -> bool:
    """Same instant and same UTC offset (or both absent)."""
    if got is None or want is None:
        return got is want
    a, b = datetime.fromisoformat(got), datetime.fromisoformat(want)
    return a == b and a.utcoffset() == b.utcoffset()


def _attachments_match(got: list[list[Any]], want: list[list[Any]]) -> bool:
    """Multiset match of [name, size] pairs; None in ``want`` matches anything."""
    if len(got) != len(want):
        return False
    left = list(got)
    # Fully specified expectations first, wildcards last.
    for name, size in sorted(want, key=lambda w: (w[0] is None, w[1] is None)):
        for i, (g_name, g_size) in enumerate(left):
            if (name is None or g_name == name) and (size is None or g_size == size):
                del left[i]
                break
        else:
            return False
    return True


def field_matches(name: str, got: Any, want: Any) -> bool:
    """Whether the actual value of a field agrees with the expectation."""
    if name == "from":
        return norm_address(got) == norm_address(want)
    if name in ("to", "cc"):
        return [norm_address(a) for a in got] == [norm_address(a) for a in want]
    if name in ("from_name", "subject"):
        return squash(got) == squash(want)
    if name == "date":
        return _dates_equal(got, want)
    if name == "text":
        flat = squash(got)
        return all(squash(s) in flat for s in want.get("contains", [])) and not any(
            squash(s) in flat for s in want.get("excludes", [])
        )
    if name == "attachments":
        return _attachments_match(got, want)
    raise KeyError(name)


def wanted(exp: Expected, name: str) -> tuple[bool, Any]:
    """(present, value) of one field of an expectation entry."""
    if name == "text":
        text = {k: exp[f"text_{k}"] for k in ("contains", "excludes") if f"text_{k}" in exp}
        return (bool(text), text)
    return (name in exp, exp.get(name))


def cases() -> list[tuple[str, str]]:
    """Every (mail key, field) pair that has an expected value."""
    out = []
    for key, exp in expectations().items():
        for name in FIELDS:
            if wanted(exp, name)[0]:
                out.append((key, name))
    return out


def check(key: str, name: str) -> tuple[bool, Any, Any]:
    """(ok, got, want) for one case."""
    want = wanted(expectations()[key], name)[1]
    got = actual_value(parsed(key), name)
    return field_matches(name, got, want), got, want


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def sources() -> list[str]:
    """The sources that have cases: corpus folders and ``built``."""
    return sorted({source_of(key) for key, _ in cases()})


def _corpus_missing(key: str) -> bool:
    """Whether a corpus mail is unavailable (built mails never are)."""
    return not key.startswith("built/") and not (CORPUS / key).exists()


def mismatches(source: str) -> list[tuple[str, str]]:
    """(``<key>|<field>``, what differs) of every case of ``source`` that does not agree
    (a mail that ``parse`` refuses counts once, as its own line)."""
    found = []
    refused: set[str] = set()
    for key, name in cases():
        if source_of(key) != source or _corpus_missing(key) or key in refused:
            continue
        try:
            ok, got, want = check(key, name)
        except Exception as exc:  # reported with the mail's key, beside the others
            refused.add(key)
            found.append((f"{key}|parse", f"raised {exc!r}"))
            continue
        if not ok:
            found.append((f"{key}|{name}", f"got {short(got)}, expected {short(want)}"))
    return found


@pytest.mark.parametrize("source", sources())
def test_fields_of_source(source: str) -> None:
    """Every field of every mail of ``source`` agrees with its upstream or hand-written
    expectation, but for the known mismatches (which end the test as xfail)."""
    if all(_corpus_missing(key) for key, _ in cases() if source_of(key) == source):
        pytest.skip(f"corpus folder {CORPUS / source} not available (expected ../shared/corpus)")
    known = known_failures()
    found = mismatches(source)
    unknown = [f"{case}: {what}" for case, what in found if case not in known]
    assert not unknown, f"{len(unknown)} mismatches:\n" + "\n".join(unknown)
    if found:
        pytest.xfail("known mismatches: " + ", ".join(case for case, _ in found))


def test_expectation_files_are_well_formed() -> None:
    """Every entry names its source and uses only known fields; known failures exist."""
    allowed = {"source", "notes", "japanese", "text_contains", "text_excludes", *FIELDS} - {"text"}
    all_cases = set(cases())
    for key, exp in expectations().items():
        assert exp.get("source"), f"{key}: no source"
        assert set(exp) <= allowed, f"{key}: unknown keys {set(exp) - allowed}"
        for att in exp.get("attachments", []):
            assert len(att) == 2, f"{key}: attachment {att!r} is not [name, size]"
    for entry in known_failures():
        key, _, name = entry.rpartition("|")
        assert (key, name) in all_cases, f"known failure {entry!r} names no case"


@dataclass
class Tally:
    """Matches and totals for one bucket (source or field)."""

    ok: int = 0
    total: int = 0

    def add(self, good: bool) -> None:
        """Count one case."""
        self.ok += good
        self.total += 1

    @property
    def rate(self) -> float:
        """Share of matching cases (1.0 when empty)."""
        return self.ok / self.total if self.total else 1.0

    def __str__(self) -> str:
        """``ok/total (xx.x %)``."""
        return f"{self.ok}/{self.total} ({100 * self.rate:.1f} %)"


@dataclass
class Report:
    """Per-field and per-source accuracy, with the failing cases."""

    fields_all: dict[str, Tally]
    fields_japanese: dict[str, Tally]
    sources: dict[str, Tally]
    mails: dict[str, int]
    failures: list[tuple[str, str, Any, Any]]

    def table(self) -> str:
        """A plain-text table of the figures."""
        lines = ["field        all                    japanese"]
        for name in FIELDS:
            lines.append(f"{name:<12} {self.fields_all[name]!s:<22} {self.fields_japanese[name]!s}")
        lines.append("")
        lines.append("source                      mails  cases")
        for src, tally in sorted(self.sources.items()):
            lines.append(f"{src:<27} {self.mails[src]:>5}  {tally}")
        return "\n".join(lines)


def report() -> Report:
    """Compare every available case and tally the results."""
    fields_all = {n: Tally() for n in FIELDS}
    fields_jp = {n: Tally() for n in FIELDS}
    sources: dict[str, Tally] = {}
    mails: dict[str, int] = {}
    failures = []
    seen: set[str] = set()
    for key, name in cases():
        if _corpus_missing(key):
            continue
        ok, got, want = check(key, name)
        src = source_of(key)
        fields_all[name].add(ok)
        if is_japanese(key):
            fields_jp[name].add(ok)
        sources.setdefault(src, Tally()).add(ok)
        if key not in seen:
            seen.add(key)
            mails[src] = mails.get(src, 0) + 1
        if not ok:
            failures.append((key, name, got, want))
    return Report(fields_all, fields_jp, sources, mails, failures)


def test_accuracy_targets() -> None:
    """Per field: at least 99 % on all mails and 100 % on the Japanese ones (issue 9).

    Any mismatch not listed in known_failures.json fails too.
    """
    result = report()
    if not result.mails:
        pytest.skip("corpus not available at ../shared/corpus")
    known = known_failures()
    unknown = [f for f in result.failures if f"{f[0]}|{f[1]}" not in known]
    assert not unknown, "unexpected mismatches:\n" + "\n".join(
        f"{k}|{n}: got {short(g)}, expected {short(w)}" for k, n, g, w in unknown
    )
    below = [
        f"{name}: all {result.fields_all[name]}, japanese {result.fields_japanese[name]}"
        for name in FIELDS
        if result.fields_all[name].rate < TARGET_ALL
        or result.fields_japanese[name].rate < TARGET_JAPANESE
    ]
    assert not below, "below target:\n" + "\n".join(below)


def main() -> None:
    """Print the accuracy table and the failures (for docs/mail/fidelity.md)."""
    result = report()
    print(result.table())  # noqa: T201 - command-line report
    print()  # noqa: T201
    known = known_failures()
    for key, name, got, want in result.failures:
        print(f"{key}|{name}\n  got      {short(got)}\n  expected {short(want)}")  # noqa: T201
        print(f"  known: {known.get(f'{key}|{name}', '-- NOT LISTED --')}")  # noqa: T201


if __name__ == "__main__":
    main()
