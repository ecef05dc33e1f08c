"""Outbound mail composition: threading headers and Japanese charsets."""

from __future__ import annotations

from datetime import UTC, datetime

from madoguchi.mail import Address, parse
from madoguchi.mail.compose import Outgoing, build, encode_iso2022jp


def outgoing(**overrides) -> Outgoing:
    values = dict(
        sender=Address("佐藤 花子 (サポート窓口)", "support@example.jp"),
        to=[Address("田中 一郎", "tanaka@tokyo-shoji.example")],
        subject="Re: 見積もりのお願い",
        text="いつもお世話になっております。\n㈱東京商事 ① ﾊﾝｶｸ\n",
        message_id="mdg.1.2.0123456789abcdef@example.jp",
        date=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        in_reply_to="q2@tokyo-shoji.example",
        references=["q1@tokyo-shoji.example", "q2@tokyo-shoji.example"],
    )
    values.update(overrides)
    return Outgoing(**values)


def test_threading_headers_are_set():
    """Message-ID, In-Reply-To and References come out as given, in angle brackets."""
    parsed = parse(build(outgoing()))
    assert parsed.message_id == "mdg.1.2.0123456789abcdef@example.jp"
    assert parsed.in_reply_to == "q2@tokyo-shoji.example"
    assert parsed.references == ["q1@tokyo-shoji.example", "q2@tokyo-shoji.example"]


def test_utf8_round_trips():
    """The default UTF-8 mail reads back exactly, display names included."""
    parsed = parse(build(outgoing()))
    assert parsed.subject == "Re: 見積もりのお願い"
    assert parsed.sender == Address("佐藤 花子 (サポート窓口)", "support@example.jp")
    assert "㈱東京商事 ① ﾊﾝｶｸ" in parsed.text


def test_iso2022jp_carries_windows_characters():
    """ISO-2022-JP output is 7-bit and keeps ① and ㈱; half-width kana become full-width."""
    raw = build(outgoing(charset="iso-2022-jp"))
    assert raw.isascii() and b"ISO-2022-JP" in raw
    parsed = parse(raw)
    assert parsed.subject == "Re: 見積もりのお願い"
    assert parsed.sender is not None and parsed.sender.name == "佐藤 花子 (サポート窓口)"
    assert "㈱東京商事 ① ハンカク" in parsed.text


def test_iso2022jp_falls_back_to_utf8_for_what_it_cannot_carry():
    """Text outside JIS X 0208 and its Windows rows (an emoji) is sent as UTF-8 instead."""
    raw = build(outgoing(charset="iso-2022-jp", text="ありがとうございます 🙏\n"))
    assert b"utf-8" in raw.lower()
    assert "🙏" in parse(raw).text


def test_encode_iso2022jp_escapes_back_to_ascii():
    """Every JIS run is closed with ESC ( B."""
    assert encode_iso2022jp("a東京b") == b"a\x1b$BEl5~\x1b(Bb"


def test_html_and_attachments_round_trip_in_utf8():
    """Rich text goes as multipart/alternative; files as attachments with their names."""
    from madoguchi.mail.compose import OutAttachment

    mail = outgoing(
        html="<p>いつも<b>お世話に</b>なっております。</p>",
        attachments=[OutAttachment("見積書.pdf", "application/pdf", b"%PDF-1.4 x")],
    )
    parsed = parse(build(mail))
    assert "<b>お世話に</b>" in parsed.html
    assert "いつもお世話になっております" in parsed.text
    (att,) = parsed.attachments
    assert att.filename == "見積書.pdf" and att.data == b"%PDF-1.4 x"


def test_html_and_attachments_round_trip_in_iso2022jp():
    """The ISO-2022-JP form carries parts too, with the Japanese file name readable."""
    from madoguchi.mail.compose import OutAttachment

    mail = outgoing(
        charset="iso-2022-jp",
        html="<p>いつも<b>お世話に</b>なっております。㈱</p>",
        attachments=[OutAttachment("見積書.pdf", "application/pdf", b"%PDF-1.4 x")],
    )
    data = build(mail)
    assert b"multipart/mixed" in data and b"ISO-2022-JP" in data
    assert all(b < 0x80 for b in data)  # 7-bit clean
    parsed = parse(data)
    assert "<b>お世話に</b>" in parsed.html and "㈱" in parsed.html
    assert "㈱東京商事" in parsed.text
    (att,) = parsed.attachments
    assert att.filename == "見積書.pdf" and att.data == b"%PDF-1.4 x"
