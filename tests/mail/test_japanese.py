"""Japanese decoding: ISO-2022-JP with Windows extensions, Shift_JIS, EUC-JP, broken labels."""

from __future__ import annotations

import base64

from madoguchi.mail import parse
from madoguchi.mail.charsets import decode, decode_iso2022jp_windows

from .conftest import corpus_file, mail

# ①㈱ in JIS X 0208 row 13 (NEC special characters), then ﾊﾝｶｸ via ESC ( I.
WINDOWS_JIS = b"\x1b$B-!-j\x1b(IJ]68\x1b(B"
WINDOWS_TEXT = "①㈱ﾊﾝｶｸ"


def _b64(data: bytes) -> str:
    """Base64 as text."""
    return base64.b64encode(data).decode("ascii")


def test_windows_iso2022jp_helper() -> None:
    """The CP50220 helper decodes NEC row 13 and half-width katakana."""
    assert decode_iso2022jp_windows(WINDOWS_JIS) == WINDOWS_TEXT


def test_windows_iso2022jp_subject() -> None:
    """An ISO-2022-JP subject with ① ㈱ ﾊﾝｶｸ decodes exactly and records a defect."""
    raw = mail(f"Subject: =?ISO-2022-JP?B?{_b64(WINDOWS_JIS)}?=\nFrom: a@example.jp")
    result = parse(raw)
    assert result.subject == WINDOWS_TEXT
    assert any(d.where == "subject" and "CP50220" in d.repair for d in result.defects)


def test_windows_iso2022jp_body() -> None:
    """An ISO-2022-JP body with Windows extension characters decodes exactly."""
    body = b"\x1b$B$3$s$K$A$O\x1b(B\r\n" + WINDOWS_JIS + b"\r\n"
    raw = mail("From: a@example.jp\nContent-Type: text/plain; charset=iso-2022-jp", body)
    assert parse(raw).text == "こんにちは\n" + WINDOWS_TEXT + "\n"


def test_plain_iso2022jp_has_no_defect() -> None:
    """Standard ISO-2022-JP decodes with the stdlib codec and no repair."""
    text, repair = decode("日本語".encode("iso2022_jp"), "ISO-2022-JP")
    assert (text, repair) == ("日本語", None)


def test_shift_jis_label_is_cp932() -> None:
    """A shift_jis label decodes CP932-only characters such as ① and ～."""
    body = "①テスト～".encode("cp932")
    raw = mail("From: a@example.jp\nContent-Type: text/plain; charset=Shift_JIS", body)
    assert parse(raw).text == "①テスト～"


def test_euc_jp_body() -> None:
    """An EUC-JP body decodes."""
    raw = mail(
        "From: a@example.jp\nContent-Type: text/plain; charset=EUC-JP",
        "日本語です".encode("euc_jp"),
    )
    assert parse(raw).text == "日本語です"


def test_split_encoded_words() -> None:
    """Encoded-words split in the middle of a UTF-8 character are joined before decoding."""
    data = "件名テスト".encode()
    subject = f"=?UTF-8?B?{_b64(data[:4])}?=\n =?UTF-8?B?{_b64(data[4:])}?="
    assert parse(mail(f"Subject: {subject}")).subject == "件名テスト"


def test_split_iso2022jp_encoded_words() -> None:
    """ISO-2022-JP encoded-words split inside the escape-sequenced run decode."""
    data = "お問い合わせ".encode("iso2022_jp")
    subject = f"=?ISO-2022-JP?B?{_b64(data[:7])}?= =?ISO-2022-JP?B?{_b64(data[7:])}?="
    assert parse(mail(f"Subject: {subject}")).subject == "お問い合わせ"


def test_iso2022jp_label_but_euc_jp() -> None:
    """A body labelled ISO-2022-JP that is really EUC-JP is detected and repaired."""
    raw = mail("Content-Type: text/plain; charset=iso-2022-jp", "見積もり依頼".encode("euc_jp"))
    result = parse(raw)
    assert result.text == "見積もり依頼"
    assert any("labelled iso-2022-jp" in d.problem for d in result.defects)


def test_iso2022jp_label_but_utf8() -> None:
    """A body labelled ISO-2022-JP that is really UTF-8 decodes as UTF-8."""
    raw = mail("Content-Type: text/plain; charset=iso-2022-jp", "ご確認ください".encode())
    assert parse(raw).text == "ご確認ください"


def test_us_ascii_label_but_8bit() -> None:
    """A body declared us-ascii but carrying CP932 bytes is guessed correctly."""
    raw = mail("Content-Type: text/plain; charset=us-ascii", "納品書を送ります".encode("cp932"))
    result = parse(raw)
    assert result.text == "納品書を送ります"
    assert any("us-ascii" in d.problem for d in result.defects)


def test_8bit_header_utf8() -> None:
    """A raw 8-bit UTF-8 subject without encoded-words decodes."""
    raw = "Subject: 請求書について\r\n\r\nx".encode()
    assert parse(raw).subject == "請求書について"


def test_8bit_header_cp932() -> None:
    """A raw 8-bit Shift_JIS subject decodes and is reported as a defect."""
    raw = b"Subject: " + "請求書について".encode("cp932") + b"\r\n\r\nx"
    result = parse(raw)
    assert result.subject == "請求書について"
    assert any(d.where == "subject" and "8-bit" in d.problem for d in result.defects)


def test_8bit_header_latin1() -> None:
    """A raw 8-bit Latin-1 subject falls back to CP1252."""
    raw = b"Subject: Caf\xe9 cr\xe8me\r\n\r\nx"
    assert parse(raw).subject == "Café crème"


def test_8bit_sender_name_cp932() -> None:
    """A raw 8-bit display name in From decodes."""
    raw = b"From: " + "山田太郎".encode("cp932") + b" <taro@Example.JP>\r\n\r\nx"
    sender = parse(raw).sender
    assert sender is not None and (sender.name, sender.email) == ("山田太郎", "taro@example.jp")


def test_unknown_charset_gb2312_alias() -> None:
    """The non-standard label iso-gb2312 maps to GB18030 with a defect."""
    raw = mail("Content-Type: text/plain; charset=iso-gb2312", "测试".encode("gb2312"))
    result = parse(raw)
    assert result.text == "测试"
    assert any("iso-gb2312" in d.problem for d in result.defects)


def test_unknown_charset_x_unknown_guess() -> None:
    """An unknown charset label is guessed and reported."""
    raw = mail("Content-Type: text/plain; charset=x-unknown", "日本語".encode("cp932"))
    result = parse(raw)
    assert result.text == "日本語"
    assert any("x-unknown" in d.problem for d in result.defects)


def test_corpus_mimekit_japanese() -> None:
    """MimeKit's japanese.txt has an exactly decoded subject and body."""
    result = parse(corpus_file("mimekit/UnitTests/TestData/messages/japanese.txt"))
    assert result.subject == "日本語メールテスト (testing Japanese emails)"
    assert "日本語が\n正常に\n送れているか" in result.text


def test_corpus_mail_iso2022() -> None:
    """The mail gem's ISO-2022-JP sample decodes subject, names and body."""
    result = parse(
        corpus_file("mikel_mail/spec/fixtures/emails/multi_charset/japanese_iso_2022.eml")
    )
    assert result.subject == "まみむめも"
    assert result.to[0].name == "みける"
    assert result.text.strip() == "すみません。"


def test_corpus_mail_shift_jis() -> None:
    """The mail gem's Shift_JIS sample decodes its body."""
    result = parse(
        corpus_file("mikel_mail/spec/fixtures/emails/multi_charset/japanese_shift_jis.eml")
    )
    assert "このメールはテスト用のメールです。" in result.text


def test_corpus_mail_mixed_subject() -> None:
    """A subject mixing ASCII and ISO-2022-JP decodes exactly."""
    result = parse(corpus_file("mikel_mail/spec/fixtures/emails/rfc2822/example14.eml"))
    assert result.subject == "Re: TEST テストテスト"


def test_corpus_sisimai_iso2022jp_subject() -> None:
    """A Japanese bounce subject in ISO-2022-JP decodes (sisimai)."""
    result = parse(corpus_file("sisimai/maildir/bsd/lhost-trendmicro-01.eml"))
    assert result.subject == "メッセージを配信できません。"
