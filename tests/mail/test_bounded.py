"""Parsing is bounded in memory and time, whatever the mail (issue 10, docs/mail/limits.md).

Memory is measured with tracemalloc (what Python allocates, deterministic); time bounds are
generous (the machine may be busy) but far below what the quadratic cases took (a 2 MB folded
header: ~25 s; 1 MB of RFC 2231 continuations: hours in the stdlib's parameter parser).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from email.message import Message

import pytest

from madoguchi.mail import ParsedMail, parse
from madoguchi.mail.mime import MAX_FIELDS, MAX_PARTS, parse_bytes
from madoguchi.mail.parse import MAX_ADDRESS_COMMAS, MAX_DECODED_HEADERS

MB = 1_000_000


def peak_ratio(work: Callable[[], object], size: int) -> float:
    """Peak memory allocated while running ``work``, as a multiple of ``size``."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / size
    finally:
        tracemalloc.stop()


def parts(msg: Message) -> int:
    """How many parts a tree holds."""
    payload = msg.get_payload()
    if isinstance(payload, list):
        return 1 + sum(parts(p) for p in payload if isinstance(p, Message))
    return 1


def many_delimiters(size: int) -> bytes:
    return b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + b"--b\r\n" * (size // 5)


def nested(depth: int, leaf: bytes) -> bytes:
    heads = [
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
        for i in reversed(range(depth))
    ]
    tails = [f"\r\n--b{i}--\r\n".encode() for i in range(depth)]
    return b"".join(heads) + b"Content-Type: text/plain\r\n\r\n" + leaf + b"".join(tails)


def test_many_delimiters_are_split_in_bounded_memory() -> None:
    """2 MB of delimiter lines: the part limit is checked while splitting (was 240 MB)."""
    data = many_delimiters(2 * MB)
    assert peak_ratio(lambda: parse_bytes(data, []), len(data)) < 4
    assert parts(parse_bytes(data, [])) <= MAX_PARTS


def test_parts_past_the_limit_are_kept_as_one_text() -> None:
    """The rest after the part limit stays, unsplit, with a defect saying so."""
    data = many_delimiters(MB // 10) + b"--b\r\n\r\nthe very last part\r\n"
    result = parse(data)
    assert any(d.problem == f"more than {MAX_PARTS} MIME parts" for d in result.defects)
    assert "the very last part" in result.text


def test_deep_nesting_does_not_copy_the_body() -> None:
    """A 5 MB part 38 levels deep costs about its size, not its size per level (was 413 MB)."""
    leaf = b"x" * (5 * MB)
    data = nested(38, leaf)
    assert peak_ratio(lambda: parse_bytes(data, []), len(data)) < 3
    result: list[ParsedMail] = []
    assert peak_ratio(lambda: result.append(parse(data)), len(data)) < 5
    assert result[0].text.strip() == leaf.decode()


def test_attached_messages_keep_their_bytes() -> None:
    """A message/rfc822 part is still attached byte for byte (cut from the mail on demand)."""
    inner = b"From: a@example.com\r\nSubject: inner\r\n\r\nhello\r\n"
    data = (
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
        b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--o--\r\n"
    )
    (attached,) = parse(data).attachments
    assert attached.data == inner


def test_many_header_fields_are_read_up_to_the_limit() -> None:
    """Past MAX_FIELDS header fields the rest of the block is not read (with a defect)."""
    data = b"".join(b"X%d: v\r\n" % i for i in range(MAX_FIELDS + 10)) + b"\r\nbody\r\n"
    result = parse(data)
    assert len(result.headers) == MAX_FIELDS
    assert any("header fields" in d.problem for d in result.defects)
    assert result.text.strip() == "body"


def test_long_parameter_field_is_cut() -> None:
    """A Content-Type of 1 MB of RFC 2231 continuations is cut (the stdlib's reader is O(n²))."""
    params = b"".join(b";\r\n name*%d*=utf-8''%%E3%%81%%82" % i for i in range(40_000))
    data = b"Content-Type: application/octet-stream" + params + b"\r\n\r\nx"
    start = time.perf_counter()
    result = parse(data)
    assert time.perf_counter() - start < 10
    assert any("longer than the limit" in d.problem for d in result.defects)
    assert result.attachments and result.attachments[0].filename.startswith("あ")


def test_message_ids_with_8bit_bytes_are_storable() -> None:
    """8-bit bytes in Message-ID, In-Reply-To and References are read as UTF-8, never surrogates."""
    data = (
        b"Message-ID: <caf\xc3\xa9@x>\r\nIn-Reply-To: <\xff@x>\r\n"
        b"References: <a\xd0@x> <b@x>\r\n\r\nbody\r\n"
    )
    result = parse(data)
    assert result.message_id == "café@x"
    for value in (result.message_id, result.in_reply_to, *result.references):
        assert value is not None
        value.encode("utf-8")


def test_line_folded_onto_an_mbox_from_line_is_no_header() -> None:
    """A stray line after an mbox ``From `` line does not become a header with a binary name."""
    data = b"From someone Fri Apr  6 22:43:55 2007\r\n\xae\x98;x 6 22:43\r\nFrom: a@example.com\r\n"
    data += b"Subject: s\r\n\r\nbody\r\n"
    result = parse(data)
    assert [name for name, _ in result.headers] == ["From", "Subject"]


HOSTILE = {
    "folded header, 2 MB": b"Subject: a" + b"\r\n a" * (MB // 2) + b"\r\n\r\nbody",
    "one header line": b"Subject: " + b"a" * MB + b"\r\n\r\nbody",
    "many headers": b"".join(b"X-H%d: v\r\n" % i for i in range(MB // 12)) + b"\r\nbody",
    "encoded-words": b"Subject: " + b"=?utf-8?b?44GC?= " * (MB // 17) + b"\r\n\r\nb",
    "addresses": b"To: " + b"a@b.c, " * (MB // 7) + b"\r\n\r\nx",
    "quoted pairs": b"From: " + b'"\\' * (MB // 2) + b"\r\n\r\nx",
    "comments": b"From: " + b"(" * (MB // 2) + b"\r\n\r\nx",
    "references": b"References: " + b"<a@b> " * (MB // 6) + b"\r\n\r\nx",
    "stray header lines": b"Subject: x\r\n" + b"stray\r\nX: y\r\n" * (MB // 14) + b"\r\nbody",
    "delimiters": many_delimiters(MB),
    "digest parts": b'Content-Type: multipart/digest; boundary="b"\r\n\r\n'
    + b"--b\r\n\r\n" * (MB // 7),
    "boundary prefixes": b'Content-Type: multipart/mixed; boundary="bbbb"\r\n\r\n'
    + b"--bbb\r\n" * (MB // 7),
    "nesting without bodies": b"".join(
        b'Content-Type: multipart/mixed; boundary="%d"\r\n\r\n--%d\r\n' % (i, i)
        for i in range(30_000)
    ),
    "attached messages": b"Content-Type: message/rfc822\r\n\r\n" * 50_000 + b"body",
    "CR-only lines": b"Subject: x\r" + b"\r" * MB,
    "no line break": b"Subject: x\r\n\r\n" + b"a" * MB,
    "trailing spaces": b"Subject: x\r\n\r\na" + b" " * MB + b"\r\n",
    "quote markers": b"Subject: x\r\n\r\n" + b"> " * (MB // 2),
    "attributions": b"Subject: x\r\n\r\n" + b"On " * (MB // 3),
    "base64 garbage": b"Content-Transfer-Encoding: base64\r\n\r\n" + b"!@#$%^&*()" * (MB // 10),
    "qp garbage": b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + b"=\r\n=Z=" * (MB // 6),
    "uuencode starts": b"Subject: x\r\n\r\n" + b"begin 644 a\n" * (MB // 12),
    "enriched": b"Content-Type: text/enriched\r\n\r\n" + b"<param>" * (MB // 7),
    "html comments": b"Content-Type: text/html\r\n\r\n" + b"<!--" * (MB // 4),
    "html attributes": b"Content-Type: text/html\r\n\r\n<a " + b'x="' * (MB // 3),
    "iso-2022-jp escapes": b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
    + b"\x1b$B" * (MB // 3),
    "8-bit bytes": b"Content-Type: text/plain\r\n\r\n" + bytes(range(128, 256)) * (MB // 128),
}


@pytest.mark.exhaustive
@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_megabyte_parses_in_bounded_time(data: bytes) -> None:
    """Each hostile input of 1-2 MB parses in well under 10 s (about 0.1-1 s here)."""
    start = time.perf_counter()
    result = parse(data)
    assert time.perf_counter() - start < 10
    assert isinstance(result, ParsedMail)


def test_long_address_list_is_read_up_to_the_limit() -> None:
    """Past MAX_ADDRESS_COMMAS commas the rest of an address list is not read (with a defect)."""
    data = b"To: " + b"a@b.c, " * (MAX_ADDRESS_COMMAS + 100) + b"\r\n\r\nx"
    result = parse(data)
    assert len(result.to) == MAX_ADDRESS_COMMAS
    assert any("longer than the limit" in d.problem and d.where == "to" for d in result.defects)


def test_junk_sender_is_read_up_to_the_limit() -> None:
    """A From of 1 MB junk that the stdlib reads as an address every two bytes is cut."""
    start = time.perf_counter()
    result = parse(b"From: <joe@example.net>" + b"t>" * 500_000 + b"\r\n\r\nbody\r\n")
    assert time.perf_counter() - start < 10
    assert result.sender is not None and result.sender.email == "joe@example.net"
    assert any(d.where == "from" and "limit" in d.problem for d in result.defects)


def test_many_8bit_header_values_are_read_as_utf8_past_the_limit() -> None:
    """Charset evidence is asked for a bounded number of header values (~1 ms each)."""
    fields = b"".join(b"X-%d: caf\xc3\xa9 \xe9\r\n" % i for i in range(5000))
    start = time.perf_counter()
    result = parse(fields + b"Subject: caf\xc3\xa9\r\n\r\nbody\r\n")
    assert time.perf_counter() - start < 10
    assert result.subject == "café"
    assert any(str(MAX_DECODED_HEADERS) in d.problem for d in result.defects)


def test_repeated_wanted_fields_are_bounded_too() -> None:
    """4,000 Reply-To fields with 8-bit bytes (a real mail, damaged) parse in bounded time."""
    fields = b"Reply-To: no-reply\xef\xbc\x9c\xe9\x80\x9a\xe7\x9f\xa5\r\n" * 4000
    start = time.perf_counter()
    result = parse(b"Subject: s\r\n" + fields + b"\r\nbody\r\n")
    assert time.perf_counter() - start < 10
    assert result.headers[1] == ("Reply-To", "no-reply＜通知")


@pytest.mark.parametrize(
    "data",
    [
        b'Content-Type: multipart/mixed; boundary*0="a"; boundary*="b"\r\n\r\n--a\r\n\r\nx\r\n',
        b"Content-Type: text/plain; charset*0=utf-8; charset*=x\r\n\r\ncaf\xc3\xa9\r\n",
        b'Content-Type: text/html; charset="utf\\x00-8"\r\nContent-Transfer-Encoding: base64'
        b"\r\n\r\nPGI+\xff\r\n",
    ],
    ids=["boundary", "charset", "nul-charset"],
)
def test_broken_parameters_do_not_make_the_parser_give_up(data: bytes) -> None:
    """Parameters the stdlib's RFC 2231 reader trips on are read around (found by the fuzz run)."""
    result = parse(data)
    assert not any(d.problem.startswith("parser failed") for d in result.defects)
