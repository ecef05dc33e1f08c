"""Charsets decided by evidence (issue 9): undeclared and mislabelled 8-bit text.

Every path of the decision order in docs/mail/charsets.md is exercised with
mails built here (Western names and file names, Chinese, Korean, Cyrillic,
Greek and Central European text, UTF-8 without a label, short Japanese
headers) and with real mails from ``../shared/corpus``.  Japanese must stay
first-class: short Japanese headers decode as Japanese when the mail declares
a Japanese charset elsewhere, when the sender is under ``.jp`` or when the
bytes themselves are strong evidence.
"""

from __future__ import annotations

import time

import pytest

from madoguchi.mail import Address, ParsedMail, parse
from madoguchi.mail.charsets import SAMPLE, decode, guess, make_hints

from .conftest import corpus_file

# --------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------


def raw_mail(headers: bytes, body: bytes = b"Hello\r\n") -> bytes:
    """A mail from a raw header block (bytes, LF line ends) and a body."""
    return headers.strip(b"\n").replace(b"\n", b"\r\n") + b"\r\n\r\n" + body


def with_body_charset(header: bytes, charset: str, body: str = "本文です。") -> bytes:
    """A mail whose body declares ``charset`` and carries one raw 8-bit header line."""
    sender = b"" if header.startswith(b"From:") else b"From: a@example.com\n"
    head = sender + header + b"\nContent-Type: text/plain; charset=" + charset.encode()
    return raw_mail(head, body.encode(charset.replace("shift_jis", "cp932")))


def attachment_mail(disposition: bytes, body_charset: str = "us-ascii") -> bytes:
    """A multipart mail with one attachment whose Content-Disposition is given raw."""
    head = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=XX"
    body = (
        b"--XX\r\nContent-Type: text/plain; charset="
        + body_charset.encode()
        + b"\r\n\r\nsee attached\r\n--XX\r\nContent-Type: application/octet-stream\r\n"
        + disposition
        + b"\r\n\r\ndata\r\n--XX--\r\n"
    )
    return raw_mail(head, body)


def undeclared_body(text: str, codec: str, ctype: str = "text/plain") -> ParsedMail:
    """Parse a mail whose body is ``text`` in ``codec`` with no charset parameter."""
    head = f"From: a@example.com\nContent-Type: {ctype}".encode()
    return parse(raw_mail(head, text.encode(codec)))


def has_defect(result: ParsedMail, where: str, word: str) -> bool:
    """True when a defect at ``where`` mentions ``word`` in its problem or repair."""
    return any(d.where == where and word in d.problem + d.repair for d in result.defects)


# --------------------------------------------------------------------------
# Western names and file names (Latin-1 / Windows-1252)
# --------------------------------------------------------------------------

WESTERN = [
    "François Dupré",
    "Hélène Dubois",
    "Jürgen Müller",
    "Loïc Le Gall",
    "José García",
    "Begoña Ibáñez",
    "João Conceição",
    "Björn Ångström",
    "Søren Løkke",
    "Zoë Brontë",
    "Wilhelmsen Håvard",
    "Ça va ?",
    "Preis 20 €",
    "Crème brûlée",
]


@pytest.mark.parametrize("name", WESTERN)
def test_raw_latin1_subject_and_name(name: str) -> None:
    """Raw Windows-1252 subjects and display names read as Latin, never as kanji."""
    encoded = name.encode("cp1252")
    raw = raw_mail(b"From: " + encoded + b" <x@example.com>\nSubject: " + encoded)
    result = parse(raw)
    assert result.subject == name
    assert result.sender == Address(name, "x@example.com")
    assert has_defect(result, "subject", "8-bit data without charset")


@pytest.mark.parametrize("name", ["Hélène", "Müller", "Ørsted", "Loïc", "Agnès", "João", "Raúl"])
def test_short_latin_name_in_japanese_mail(name: str) -> None:
    """A Japanese body charset does not force Japanese on Latin bytes that are not."""
    raw = with_body_charset(b"From: " + name.encode("cp1252") + b" <x@example.jp>", "iso-2022-jp")
    sender = parse(raw).sender
    assert sender is not None and sender.name == name


def test_latin1_subject_with_latin1_body_hint() -> None:
    """A raw subject in a mail whose body is ISO-8859-1 reads as that charset."""
    raw = with_body_charset(b"Subject: R\xe9union \xe0 14h", "iso-8859-1", "Café")
    assert parse(raw).subject == "Réunion à 14h"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("=?utf-8?Q?Ren=E9_Dupr=E9?=", "René Dupré"),
        ("=?us-ascii?Q?Caf=E9?=", "Café"),
        ("=?iso-2022-jp?Q?M=FCller?=", "Müller"),
        ("=?shift_jis?Q?H=E9l=E8ne?=", "Hélène"),
        ("=?gb2312?Q?M=FCller?=", "Müller"),
        ("=?x-unknown?Q?Gr=FC=DFe?=", "Grüße"),
    ],
)
def test_encoded_word_with_wrong_charset(word: str, expected: str) -> None:
    """RFC 2047 words whose charset is wrong for their bytes are repaired and recorded."""
    result = parse(raw_mail(b"From: a@example.com\nSubject: " + word.encode()))
    assert result.subject == expected
    assert any(d.where == "subject" for d in result.defects)


def test_latin1_body_labelled_utf8() -> None:
    """A Latin-1 body labelled UTF-8 reads as Latin-1, not as replacement characters."""
    body = "Merci pour la réunion, à bientôt. Amitiés, Hélène".encode("cp1252")
    raw = raw_mail(b"From: a@example.com\nContent-Type: text/plain; charset=utf-8", body)
    result = parse(raw)
    assert result.text == "Merci pour la réunion, à bientôt. Amitiés, Hélène"
    assert has_defect(result, "body", "bytes invalid in utf-8")


def test_utf8_body_with_one_bad_byte_keeps_utf8() -> None:
    """One broken byte in long UTF-8 text is replaced; the rest stays UTF-8."""
    body = ("日本語のテキストです。" * 10).encode() + b"\xff"
    raw = raw_mail(b"From: a@example.com\nContent-Type: text/plain; charset=utf-8", body)
    result = parse(raw)
    assert result.text.startswith("日本語のテキストです。") and result.text.endswith("\ufffd")


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        (b"Content-Disposition: attachment; filename*=utf-8''R%E9sum%E9.pdf", "Résumé.pdf"),
        (b"Content-Disposition: attachment; filename*=''%E9t%E9.pdf", "été.pdf"),
        (b'Content-Disposition: attachment; filename="Gr\xfc\xdfe.pdf"', "Grüße.pdf"),
        (b'Content-Disposition: attachment; filename="=?utf-8?Q?Fran=E7ois.pdf?="', "François.pdf"),
        (
            b"Content-Disposition: attachment; filename*=iso-8859-1''%E8%A6%8B%E7%A9%8D.pdf",
            "見積.pdf",
        ),
        (b'Content-Disposition: attachment; filename="\xe7\xae\xa1\xe7\x90\x86.doc"', "管理.doc"),
    ],
)
def test_file_names_with_wrong_or_missing_charset(disposition: bytes, expected: str) -> None:
    """RFC 2231 / RFC 2047 / raw 8-bit file names decode; the repair is a defect."""
    result = parse(attachment_mail(disposition))
    assert [a.filename for a in result.attachments] == [expected]
    assert any(d.problem.startswith("file name:") for d in result.defects)


def test_raw_file_name_uses_body_charset() -> None:
    """A raw 8-bit file name in a Shift_JIS mail is read as Shift_JIS."""
    name = "見積書.xlsx".encode("cp932")
    result = parse(attachment_mail(b'Content-Disposition: attachment; filename="' + name + b'"'))
    assert result.attachments[0].filename == "見積書.xlsx"
    short = "会議.txt".encode("cp932")
    mixed = attachment_mail(
        b'Content-Disposition: attachment; filename="' + short + b'"', body_charset="shift_jis"
    )
    assert parse(mixed).attachments[0].filename == "会議.txt"


# --------------------------------------------------------------------------
# Other scripts: bodies without a label, headers with a hint
# --------------------------------------------------------------------------

BODIES = [
    ("您好，附件是本月的发票，请查收。如有任何问题，请随时与我们联系。谢谢！", "gbk"),
    ("各位同事：下周一上午十点在三楼会议室召开项目进度会议，请大家准时参加。", "gb2312"),
    ("您好，这是一封测试邮件，包含扩展汉字㐀和欧元符号€。请查收附件，谢谢。", "gb18030"),
    ("您好，感謝您的來信。關於報價單的問題，我們會在下週一前回覆您。謝謝！", "big5"),
    ("안녕하세요. 다음 주 회의 일정을 알려드립니다. 월요일 오전 10시에 진행됩니다.", "euc_kr"),
    ("Здравствуйте, Иван! Высылаю вам счёт на оплату за март. С уважением, Пётр", "koi8_r"),
    ("Здравствуйте, Иван! Высылаю вам счёт на оплату за март. С уважением, Пётр", "cp1251"),
    ("Dobrý den, v příloze posílám fakturu za březen. Prosím o potvrzení. Jiří Dvořák", "cp1250"),
    ("Dzień dobry, w załączniku przesyłam fakturę. Z poważaniem, Łukasz Żółć", "cp1250"),
    ("Καλημέρα σας, σας στέλνω το τιμολόγιο του Μαρτίου. Με εκτίμηση, Νίκος", "cp1253"),
    ("Sehr geehrte Damen und Herren, anbei die Rechnung für März. Grüße, Jürgen", "cp1252"),
    ("Bonjour, ci-joint le devis révisé pour la façade. Cordialement, François", "latin-1"),
]


@pytest.mark.parametrize(("text", "codec"), BODIES)
def test_undeclared_bodies(text: str, codec: str) -> None:
    """Bodies without a charset read right in their own charset, with a defect."""
    result = undeclared_body(text, codec)
    assert result.text == text
    assert has_defect(result, "body", "8-bit data without charset")


@pytest.mark.parametrize(("text", "codec"), BODIES[:6])
def test_mislabelled_us_ascii_and_unknown(text: str, codec: str) -> None:
    """Bodies labelled us-ascii or x-unknown are read by the same evidence."""
    for label in ("us-ascii", "x-unknown"):
        head = f"From: a@example.com\nContent-Type: text/plain; charset={label}".encode()
        assert parse(raw_mail(head, text.encode(codec))).text == text


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("测试邮件", "gb2312"),
        ("关于会议的通知", "gbk"),
        ("會議通知", "big5"),
        ("회의 일정", "euc-kr"),
        ("Счёт на оплату", "koi8-r"),
        ("Счёт на оплату", "windows-1251"),
        ("Příloha", "windows-1250"),
        ("Νίκος", "windows-1253"),
    ],
)
def test_short_raw_subject_uses_declared_charset(text: str, charset: str) -> None:
    """A short raw subject is read in the charset the body declares (Thunderbird's rule)."""
    codec = {"gb2312": "gbk", "euc-kr": "cp949"}.get(charset, charset)
    raw = with_body_charset(b"Subject: " + text.encode(codec), charset, "x")
    result = parse(raw)
    assert result.subject == text
    assert has_defect(result, "subject", "declared elsewhere")


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("测试邮件", "gbk"),
        ("您好，请查收附件", "gbk"),
        ("안녕하세요", "cp949"),
        ("тест тест", "koi8_r"),
    ],
)
def test_short_raw_subject_without_hint(text: str, codec: str) -> None:
    """Without any hint the detector reads short Chinese, Korean and Cyrillic subjects."""
    result = parse(raw_mail(b"From: a@example.com\nSubject: " + text.encode(codec)))
    assert result.subject == text


def test_big5_name_with_tw_sender() -> None:
    """The sender's TLD is the detector's prior, as in browsers (.tw: Big5)."""
    raw = raw_mail(b"From: " + "報價單".encode("big5") + b" <sales@example.com.tw>")
    sender = parse(raw).sender
    assert sender is not None and sender.name == "報價單"


# --------------------------------------------------------------------------
# UTF-8 without a label
# --------------------------------------------------------------------------


def test_undeclared_utf8_everywhere() -> None:
    """UTF-8 subject, name, body and file name without any label read as UTF-8."""
    head = "From: Zoë Ñandú <z@example.com>\nSubject: Größe 和弟弟 ok".encode()
    result = parse(raw_mail(head, "Grüße, 山田 — ok".encode()))
    assert result.subject == "Größe 和弟弟 ok"
    assert result.sender == Address("Zoë Ñandú", "z@example.com")
    assert result.text == "Grüße, 山田 — ok"


def test_utf8_labelled_latin1() -> None:
    """UTF-8 bytes labelled ISO-8859-1 read as UTF-8 (a common mislabel)."""
    raw = raw_mail(
        b"From: a@example.com\nContent-Type: text/plain; charset=iso-8859-1", "Ça marche ✓".encode()
    )
    result = parse(raw)
    assert result.text == "Ça marche ✓"
    assert has_defect(result, "body", "UTF-8 data labelled")


def test_utf8_with_stray_latin1_byte() -> None:
    """A header mixing UTF-8 with one Latin-1 byte keeps the UTF-8 and reads the byte."""
    raw = raw_mail("From: Юникод запрещен".encode() + b"\xf1 <h@example.com>")
    sender = parse(raw).sender
    assert sender is not None and sender.name == "Юникод запрещенñ"


def test_c1_controls_in_utf8_are_windows_1252() -> None:
    """U+0080 in undeclared UTF-8 (Windows-1252 € passed through Latin-1) is €."""
    result = undeclared_body("Euro sign: \x80", "utf-8")
    assert result.text == "Euro sign: €"


# --------------------------------------------------------------------------
# Japanese stays first-class
# --------------------------------------------------------------------------


SHORT_JAPANESE = [
    (t, c) for t in ("会議", "鈴木", "山田太郎", "見積書") for c in ("cp932", "euc_jp")
]


@pytest.mark.parametrize(("text", "codec"), [*SHORT_JAPANESE, ("ﾃｽﾄ", "cp932")])
def test_short_japanese_header_with_japanese_body(text: str, codec: str) -> None:
    """Short raw Japanese headers decode as Japanese when the mail declares a Japanese charset."""
    for charset in ("iso-2022-jp", "shift_jis" if codec == "cp932" else "euc-jp"):
        raw = with_body_charset(b"Subject: " + text.encode(codec), charset)
        result = parse(raw)
        assert result.subject == text, charset
        assert has_defect(result, "subject", "8-bit")


@pytest.mark.parametrize("codec", ["cp932", "euc_jp"])
def test_short_japanese_name_from_jp_sender(codec: str) -> None:
    """A two-kanji raw name from a .jp sender decodes as Japanese."""
    raw = raw_mail(b"From: " + "鈴木".encode(codec) + b" <suzuki@example.co.jp>")
    sender = parse(raw).sender
    assert sender is not None and sender.name == "鈴木"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("日本語", "cp932"),
        ("山田太郎", "cp932"),
        ("株式会社テスト", "cp932"),
        ("請求書について", "euc_jp"),
        ("お世話になっております", "euc_jp"),
        ("ご確認ください", "cp932"),
    ],
)
def test_japanese_by_byte_evidence(text: str, codec: str) -> None:
    """Without any hint, kana or three CP932 kanji pairs are strong evidence."""
    result = parse(raw_mail(b"From: a@example.com\nSubject: " + text.encode(codec)))
    assert result.subject == text
    assert has_defect(result, "subject", "Japanese byte evidence")


def test_two_stray_pairs_are_not_japanese_evidence() -> None:
    """Latin-1 bytes that happen to form two CP932 pairs do not become kanji."""
    data = "Žižka".encode("cp1250")  # 8E 69 / 9E 6B are valid CP932 kanji pairs
    assert decode(data, None)[0] != data.decode("cp932")
    assert guess("鈴木".encode("cp932")).codec != "cp932"


def test_japanese_hint_from_encoded_words() -> None:
    """An ISO-2022-JP encoded-word elsewhere makes a raw CP932 name Japanese."""
    subject = "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="  # テスト
    raw = raw_mail(
        b"From: " + "鈴木".encode("cp932") + b" <s@example.com>\nSubject: " + subject.encode()
    )
    result = parse(raw)
    assert result.subject == "テスト"
    assert result.sender is not None and result.sender.name == "鈴木"


def test_japanese_long_bodies_undeclared() -> None:
    """Long undeclared Japanese bodies in CP932 and EUC-JP read right."""
    text = "お世話になっております。株式会社テストの山田です。見積書を添付いたします。"
    for codec in ("cp932", "euc_jp"):
        assert undeclared_body(text, codec).text == text


def test_make_hints_order_and_tld() -> None:
    """Hints keep declaration order, drop ASCII/UTF-8 and unknown labels, take the TLD."""
    hints = make_hints(["us-ascii", "ISO-2022-JP", "utf-8", "gb2312", "bogus", "shift_jis"], "x.JP")
    assert hints.codecs == ("iso2022_jp", "gb18030", "cp932")
    assert hints.tld == "jp"
    assert make_hints([], "localhost").tld is None


# --------------------------------------------------------------------------
# Header shapes the standard library gives up on
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            b"From: =?UTF-8?Q?Doe,_John?= <john@example.com>",
            Address("Doe, John", "john@example.com"),
        ),
        (b"From: Doe, John <john@example.com>", Address("Doe, John", "john@example.com")),
        (b'From: "=?UTF-8?B?5bGx55Sw?=" <y@example.jp>', Address("山田", "y@example.jp")),
        (b"From: M\xfcller, J\xfcrgen <j@example.de>", Address("Müller, Jürgen", "j@example.de")),
        (b"From: Big Bug bb@bug.com", Address("Big Bug", "bb@bug.com")),
        (b"From: MAILER-DAEMON <>", Address("MAILER-DAEMON", "")),
        ("From: Сергей Обухов".encode(), Address("Сергей Обухов", "")),
        (b"From: test at example.com (Dummy Person)", Address("Dummy Person", "test@example.com")),
        (
            b"From: =?UTF-8?B?5bGx55Sw?=\n =?UTF-8?B?5aSq6YOO?=\n <taro@example.jp>",
            Address("山田太郎", "taro@example.jp"),
        ),
    ],
)
def test_from_shapes(header: bytes, expected: Address) -> None:
    """Readable From headers are never empty; each repair is a defect."""
    result = parse(raw_mail(header + b"\nSubject: x"))
    assert result.sender == expected


def test_unquoted_comma_is_recorded() -> None:
    """Joining an unquoted comma back into a display name is recorded."""
    result = parse(raw_mail(b"From: Doe, John <john@example.com>"))
    assert has_defect(result, "from", "unquoted comma")


def test_to_list_with_encoded_commas() -> None:
    """A list mixing an encoded name with a comma and plain addresses keeps every address."""
    raw = raw_mail(b"To: =?UTF-8?Q?Doe,_John?= <j@example.com>, b@example.com, Roe, Jane <r@x.org>")
    assert parse(raw).to == [
        Address("Doe, John", "j@example.com"),
        Address("", "b@example.com"),
        Address("Roe, Jane", "r@x.org"),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Subject:\n =?UTF-8?B?5Lu25ZCN?=", "件名"),
        (b"Subject: =?UTF-8?B?5Lu2?=\n\t=?UTF-8?B?5ZCN?=", "件名"),
        (b"Subject: =?UTF-8?B?5Lu2\n 5ZCN?=", "件名"),
        (b"Subject: =?UTF-8?B?5Lu25ZCN", "件名"),
        (b"Subject: Re:=?UTF-8?Q?R=C3=A9sum=C3=A9?=", "Re:Résumé"),
        (b"Subject: \xb4!", "´!"),
        (b"Subject: Forma\xe7\xe3o | Ver\xe3o", "Formação | Verão"),
    ],
)
def test_subject_shapes(header: bytes, expected: str) -> None:
    """Odd folding, unterminated words and raw bytes still give the subject a person reads."""
    assert parse(raw_mail(b"From: a@example.com\n" + header)).subject == expected


# --------------------------------------------------------------------------
# Bounded cost
# --------------------------------------------------------------------------


def test_large_undeclared_body_is_bounded() -> None:
    """A 6 MB undeclared 8-bit body is judged on a slice and decoded in linear time."""
    text = "Grüße aus Köln, schöne Woche! " * 200_000
    start = time.perf_counter()
    result = undeclared_body(text, "cp1252")
    elapsed = time.perf_counter() - start
    assert result.text == text
    assert elapsed < 5


def test_many_encoded_words_are_bounded() -> None:
    """Ten thousand encoded-words and raw bytes in one header parse quickly."""
    words = b" ".join([b"=?UTF-8?Q?Doe,_J=C3=B6hn?= <j@x.org>,"] * 10_000)
    start = time.perf_counter()
    subject = "Café crème, " * 10_000
    result = parse(raw_mail(b"To: " + words + b"\nSubject: " + subject.encode("cp1252")))
    assert time.perf_counter() - start < 10
    assert len(result.to) == 10_000 and result.subject == subject.strip()


def test_guess_looks_at_a_slice_only() -> None:
    """Bytes after the judged slice do not change the decision (they are decoded, though)."""
    head = "Grüße aus Köln. ".encode("cp1252") * (SAMPLE // 16)
    tail = "会議".encode("cp932") * 100
    found = guess(head + tail)
    assert found.codec == "cp1252" and found.text.startswith("Grüße aus Köln.")


# --------------------------------------------------------------------------
# Real mails (../shared/corpus)
# --------------------------------------------------------------------------


def test_corpus_rt_latin1_from() -> None:
    """RT's ISO-8859-1 raw From decodes as Latin-1 (was 'H蛆ard')."""
    result = parse(corpus_file("rt/t/data/emails/new-ticket-from-iso-8859-1"))
    assert result.sender == Address("Wilhelmsen Håvard", "hw@nordkapp.net")


def test_corpus_mail_gem_latin1_subject() -> None:
    """The mail gem's raw Latin-1 subject decodes (was 'Forma鈬o')."""
    path = "mikel_mail/spec/fixtures/emails/error_emails/invalid_subject_characters.eml"
    result = parse(corpus_file(path))
    assert result.subject.startswith("Formação FrenetikPolis: Mega Campanha Final Verão")


def test_corpus_rt_koi8r_subject() -> None:
    """RT's raw KOI8-R subject without any Content-Type reads as Russian."""
    result = parse(corpus_file("rt/t/data/emails/russian-subject-no-content-type"))
    assert result.subject == "тест тест"


def test_corpus_enmime_big5_labelled_us_ascii() -> None:
    """enmime's Big5 part labelled us-ascii reads as Big5 (was Latin-1 mojibake)."""
    result = parse(corpus_file("enmime/testdata/parts/chardet-success-big-5.raw"))
    assert result.text.startswith("顏是家訓  北齊  顏之推")


def test_corpus_enmime_latin1_labelled_us_ascii() -> None:
    """enmime's German ISO-8859-1 part labelled us-ascii reads as Latin-1."""
    result = parse(corpus_file("enmime/testdata/parts/chardet-success-iso-8859-1.raw"))
    assert "Drachenköpfe" in result.text


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("enmime/testdata/mail/mime-bad-8bit-filename.raw", "管理.doc"),
        (
            "mikel_mail/spec/fixtures/emails/attachment_emails/attachment_nonascii_filename.eml",
            "ciële.txt",
        ),
        ("spamscope_mail_parser/tests/mails/mail_test_1", "ФНС_РФ558.zip"),
    ],
)
def test_corpus_raw_file_names(path: str, name: str) -> None:
    """Raw 8-bit file names keep their bytes for the decoder (were U+FFFD)."""
    assert name in [a.filename for a in parse(corpus_file(path)).attachments]


def test_corpus_names_the_stdlib_drops() -> None:
    """A name-only From and a list archive's 'user at domain' are kept (talon, hyperkitty)."""
    talon = parse(corpus_file("talon/tests/fixtures/signature/emails/P/unicode_msg"))
    assert talon.sender == Address("Сергей Обухов", "")
    hyperkitty = parse(corpus_file("hyperkitty/hyperkitty/tests/testdata/non-ascii-headers.txt"))
    assert hyperkitty.sender == Address("Vít Ondruch", "vondruch@redhat.com")


def test_corpus_euro_in_utf8() -> None:
    """enmime's 'Unencoded Euro Sign' (UTF-8 U+0080) shows €."""
    result = parse(corpus_file("enmime/testdata/mail/non-mime-missing-charset.raw"))
    assert "Unencoded Euro Sign: €" in result.text


def test_corpus_japanese_untouched() -> None:
    """The corpus's Japanese samples still decode exactly (mail gem, MimeKit)."""
    iso = parse(corpus_file("mikel_mail/spec/fixtures/emails/multi_charset/japanese_iso_2022.eml"))
    assert iso.subject == "まみむめも"
    sjis = parse(
        corpus_file("mikel_mail/spec/fixtures/emails/multi_charset/japanese_shift_jis.eml")
    )
    assert "このメールはテスト用のメールです。" in sjis.text
