"""No input can add a header to a mail we send, in UTF-8 or in ISO-2022-JP.

Each source of header text is tried with every kind of line break: the subject, the
sender's display name (agent and mailbox name), the recipients' names and addresses, an
attachment's name and type (from an upload, a forwarded mail or a winmail.dat), and the
customer's Message-IDs we answer. The raw result is read the way a lenient MTA reads it
(``header_reader``), where "Bcc : x" is a Bcc.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.mail import Address, parse
from madoguchi.mail.compose import OutAttachment, Outgoing, build
from madoguchi.mail.header_values import UnsafeAddress, file_name, mail_address, one_line
from tests.mail.header_reader import assert_only_intended_headers
from tests.mail.test_attachments import _multipart, _tnef

CHARSETS = ["utf-8", "iso-2022-jp"]
#: every character some program takes as the end of a line
BREAKS = ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
          "\u2029", "\x00"]  # fmt: skip
EVIL = "Bcc : evil@attacker.example"
TOP = {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
       "mime-version", "content-type"}  # fmt: skip


def outgoing(charset: str, **overrides: object) -> Outgoing:
    values: dict[str, object] = dict(
        sender=Address("佐藤 花子 (サポート窓口)", "support@example.jp"),
        to=[Address("田中 一郎", "tanaka@tokyo-shoji.example")],
        cc=[Address("鈴木", "suzuki@tokyo-shoji.example")],
        subject="Re: 見積もりのお願い",
        text="お見積もりをお送りします。\n",
        message_id="mdg.1.2.0123456789abcdef@example.jp",
        date=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        in_reply_to="q2@tokyo-shoji.example",
        references=["q1@tokyo-shoji.example"],
        charset=charset,
        attachments=[OutAttachment("見積書.pdf", "application/pdf", b"%PDF-1.4")],
    )
    values.update(overrides)
    return Outgoing(**values)  # type: ignore[arg-type]


def _check(mail: Outgoing) -> bytes:
    data = build(mail)
    assert_only_intended_headers(data, top=TOP)
    return data


def _sources(evil: str) -> dict[str, dict[str, object]]:
    return {
        "subject": {"subject": f"見積もり{evil}"},
        "ascii subject": {"subject": f"Quote{evil}"},
        "agent / mailbox display name": {
            "sender": Address(f"佐藤{evil} (サポート{evil}窓口)", "support@example.jp")
        },
        "ascii display name": {"sender": Address(f"Sato{evil}", "support@example.jp")},
        "To name": {"to": [Address(f"田中{evil}", "tanaka@tokyo-shoji.example")]},
        "Cc name": {"cc": [Address(f"Suzuki{evil}", "suzuki@tokyo-shoji.example")]},
        "attachment name": {
            "attachments": [OutAttachment(f"見積{evil}.pdf", "application/pdf", b"x")]
        },  # fmt: skip
        "ascii attachment name": {
            "attachments": [OutAttachment(f"quote{evil}.pdf", "text/plain", b"x")]
        },  # fmt: skip
        "attachment type": {"attachments": [OutAttachment("a.pdf", f"text/plain{evil}", b"x")]},
        "In-Reply-To": {"in_reply_to": f"q2@tokyo-shoji.example>{evil}<x"},
        "References": {"references": [f"q1@x>{evil}<y", "q0@x"]},
    }


@pytest.mark.parametrize("charset", CHARSETS)
@pytest.mark.parametrize("brk", BREAKS, ids=[repr(b) for b in BREAKS])
@pytest.mark.parametrize("source", list(_sources("")))
def test_no_source_can_add_a_header(charset: str, brk: str, source: str) -> None:
    """Whatever a source holds, the mail has exactly its intended headers."""
    data = _check(outgoing(charset, **_sources(brk + EVIL)[source]))
    parsed = parse(data)
    assert parsed.cc == [Address("鈴木", "suzuki@tokyo-shoji.example")] or source == "Cc name"


@pytest.mark.parametrize("charset", CHARSETS)
def test_the_text_survives_on_one_line(charset: str) -> None:
    """A line break becomes a space: the reader still sees what was written."""
    data = _check(outgoing(charset, subject="見積もり\r\nのお願い",
                           sender=Address("佐藤\n花子", "support@example.jp")))  # fmt: skip
    parsed = parse(data)
    assert parsed.subject == "見積もり のお願い"
    assert parsed.sender == Address("佐藤 花子", "support@example.jp")


@pytest.mark.parametrize("charset", CHARSETS)
@pytest.mark.parametrize(
    "email",
    ["tanaka@tokyo-shoji.example\r\nBcc : evil@attacker.example", "a@b\rBcc: x@y",
     '"a\r\nBcc: x"@example.jp', "a b@example.jp", "<a@example.jp>", "a@example.jp, b@example.jp",
     "a@", "@example.jp", "tanaka"],
)  # fmt: skip
@pytest.mark.parametrize("where", ["to", "cc", "sender"])
def test_an_unsafe_address_is_refused_not_written(charset: str, email: str, where: str) -> None:
    """An address is an addr-spec or nothing: building refuses it (forms check first)."""
    value = Address("x", email)
    with pytest.raises(UnsafeAddress):
        build(outgoing(charset, **{where: value if where == "sender" else [value]}))


def test_international_domains_are_written_in_idna() -> None:
    assert mail_address("info@例え.jp") == "info@xn--r8jz45g.jp"
    data = _check(outgoing("utf-8", to=[Address("", "info@例え.jp")]))
    assert b"info@xn--r8jz45g.jp" in data


@pytest.mark.parametrize("charset", CHARSETS)
def test_a_winmail_dat_name_is_cleaned_like_any_other(charset: str) -> None:
    """A file name from inside a winmail.dat (not a MIME header) is cleaned when it is
    unpacked, and forwarding it adds no header."""
    name = f"report\r\n{EVIL}\x0b.txt"
    blob = base64.b64encode(_tnef([(name, b"numbers")]))
    raw = _multipart(
        "Content-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64",
        blob,
    )
    (att,) = parse(raw).attachments
    assert att.filename == f"report {EVIL} .txt"  # one line
    forwarded = OutAttachment(att.filename, att.content_type, att.data)
    data = _check(outgoing(charset, attachments=[forwarded]))
    assert [a.filename for a in parse(data).attachments] == [att.filename]


@pytest.mark.parametrize("charset", CHARSETS)
def test_a_forwarded_attachment_name_with_encoded_line_breaks(charset: str) -> None:
    """An RFC 2231 name that decodes to CR LF arrives on one line and leaves on one line."""
    raw = _multipart(
        "Content-Type: application/pdf\nContent-Disposition: attachment;"
        " filename*=UTF-8''%E8%A6%8B%0D%0ABcc%20%3A%20evil%40attacker.example.pdf",
        b"%PDF",
    )
    (att,) = parse(raw).attachments
    data = _check(outgoing(charset, attachments=[OutAttachment(att.filename, att.content_type,
                                                               att.data)]))  # fmt: skip
    assert "\n" not in parse(data).attachments[0].filename


def test_file_names_lose_paths_dots_and_direction_overrides() -> None:
    assert file_name("..\\..\\evil.exe") == "evil.exe"
    assert file_name("invoice\u202eFDP.exe") == "invoiceFDP.exe"
    assert file_name(".htaccess") == "htaccess"
    assert file_name("\r\n") == "file"
    long = "あ" * 300 + ".pdf"
    assert len(file_name(long)) == 255 and file_name(long).endswith(".pdf")


def test_one_line_keeps_japanese_spaces_and_replaces_lone_surrogates() -> None:
    assert one_line("佐藤\u3000花子") == "佐藤\u3000花子"
    assert one_line("a\udcff b") == "a\ufffd b"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    charset=st.sampled_from(CHARSETS),
    subject=st.text(max_size=120),
    name=st.text(max_size=60),
    filename=st.text(max_size=60),
)
def test_fuzz_any_text_gives_exactly_the_intended_headers(
    charset: str, subject: str, name: str, filename: str
) -> None:
    """Random text (any code point, surrogates included) in the subject, the display
    names and a file name never adds or breaks a header, and never raises."""
    _check(
        outgoing(
            charset,
            subject=subject,
            sender=Address(name, "support@example.jp"),
            to=[Address(name, "tanaka@tokyo-shoji.example")],
            attachments=[OutAttachment(filename, "application/octet-stream", b"x")],
        )
    )
