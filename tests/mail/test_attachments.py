"""Attachments: RFC 2231 / RFC 2047 file names, inline parts, winmail.dat (TNEF)."""

from __future__ import annotations

import base64
import hashlib
import struct

from madoguchi.mail import parse

from .conftest import corpus_file, mail


def _multipart(part_headers: str, payload: bytes) -> bytes:
    """A multipart/mixed mail with a text part and one extra part."""
    head = "From: a@example.com\nContent-Type: multipart/mixed; boundary=XX"
    body = (
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--XX\r\n"
        + part_headers.strip("\n").replace("\n", "\r\n").encode("ascii")
        + b"\r\n\r\n"
        + payload
        + b"\r\n--XX--\r\n"
    )
    return mail(head, body)


def test_rfc2231_japanese_filename() -> None:
    """An RFC 2231 percent-encoded UTF-8 file name decodes."""
    raw = _multipart(
        "Content-Type: application/pdf\n"
        "Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf",
        b"%PDF-1.4",
    )
    att = parse(raw).attachments[0]
    assert (att.filename, att.content_type, att.size) == ("見積書.pdf", "application/pdf", 8)
    assert att.sha256 == hashlib.sha256(b"%PDF-1.4").hexdigest()


def test_rfc2231_continuations() -> None:
    """RFC 2231 continuations (filename*0*, filename*1*) are joined before decoding."""
    raw = _multipart(
        "Content-Type: text/plain\nContent-Disposition: attachment;\n"
        " filename*0*=UTF-8''%E8%AB%8B%E6%B1%82;\n filename*1*=%E6%9B%B8.txt",
        b"data",
    )
    assert parse(raw).attachments[0].filename == "請求書.txt"


def test_rfc2047_filename_iso2022jp() -> None:
    """A (non-standard but common) RFC 2047 encoded name parameter decodes."""
    word = base64.b64encode("資料.xlsx".encode("iso2022_jp")).decode()
    raw = _multipart(
        f'Content-Type: application/octet-stream; name="=?ISO-2022-JP?B?{word}?="\n'
        "Content-Transfer-Encoding: base64",
        base64.b64encode(b"PK\x03\x04"),
    )
    att = parse(raw).attachments[0]
    assert att.filename == "資料.xlsx" and att.data == b"PK\x03\x04"


def test_filename_path_is_stripped() -> None:
    """Directory parts in a file name are removed."""
    raw = _multipart('Content-Type: text/plain; name="..\\\\..\\\\evil.exe"', b"x")
    assert parse(raw).attachments[0].filename == "evil.exe"


def test_inline_image_content_id() -> None:
    """An inline image keeps its Content-ID without angle brackets."""
    raw = _multipart("Content-Type: image/png\nContent-ID: <img1@example.com>", b"\x89PNG")
    att = parse(raw).attachments[0]
    assert att.content_id == "img1@example.com" and att.inline is True


def test_corpus_rfc2231_continuations() -> None:
    """RT's Japanese RFC 2231 continuation file name decodes exactly."""
    result = parse(corpus_file("rt/t/data/emails/rfc2231-attachment-filename-continuations"))
    assert [a.filename for a in result.attachments] == ["新しいテキスト ドキュメント.txt"]


def _tnef_attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    """One TNEF attribute: level, id, type, length, data, checksum ([MS-OXTNEF] 2.1.3)."""
    checksum = sum(data) & 0xFFFF
    return (
        struct.pack("<BHHI", level, attr_id, attr_type, len(data))
        + data
        + struct.pack("<H", checksum)
    )


def _tnef(files: list[tuple[str, bytes]]) -> bytes:
    """Build a minimal TNEF blob (winmail.dat) carrying the given files."""
    blob = struct.pack("<IH", 0x223E9F78, 0x0001)
    blob += _tnef_attr(1, 0x9006, 0x0009, struct.pack("<I", 0x00010000))  # attTnefVersion
    for name, data in files:
        blob += _tnef_attr(2, 0x9002, 0x0006, b"\x01\x00" + b"\x00" * 12)  # attAttachRendData
        blob += _tnef_attr(2, 0x8010, 0x0001, name.encode("ascii") + b"\x00")  # attAttachTitle
        blob += _tnef_attr(2, 0x800F, 0x0006, data)  # attAttachData
    return blob


def test_tnef_opened_into_attachments() -> None:
    """A winmail.dat is replaced by the files it carries."""
    blob = base64.b64encode(_tnef([("report.txt", b"quarterly numbers"), ("a.csv", b"1,2")]))
    raw = _multipart(
        "Content-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=winmail.dat",
        blob,
    )
    atts = parse(raw).attachments
    assert [(a.filename, a.data) for a in atts] == [
        ("report.txt", b"quarterly numbers"),
        ("a.csv", b"1,2"),
    ]


def test_broken_tnef_kept_with_defect() -> None:
    """An invalid winmail.dat is kept as-is and reported."""
    raw = _multipart("Content-Type: application/ms-tnef; name=winmail.dat", b"not tnef at all")
    result = parse(raw)
    assert [a.filename for a in result.attachments] == ["winmail.dat"]
    assert any("TNEF" in d.problem for d in result.defects)


def test_corpus_tnef_does_not_break() -> None:
    """A real winmail.dat from the corpus (Amazon WorkMail bounce) is handled."""
    result = parse(corpus_file("sisimai/maildir/bsd/lhost-amazonworkmail-01.eml"))
    assert result.kind == "bounce"
    assert all(
        a.content_type != "application/ms-tnef" or a.filename == "winmail.dat"
        for a in result.attachments
    )
