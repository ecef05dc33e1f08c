"""MIME structure leniency: broken header blocks and multipart structure (issue 9).

One focused case per cause fixed in :mod:`madoguchi.mail.mime` and the
multipart logic of :mod:`madoguchi.mail.body` (see docs/mail/fidelity.md):
blank lines or a byte order mark before the header, stray lines inside a
header block, ``From  :`` with white space before the colon, multipart/digest
parts, HTML beside plain text in multipart/mixed, the choice among
alternatives, text/enriched, and uuencoded files in a plain text body.
"""

from __future__ import annotations

import binascii

from madoguchi.mail import ParsedMail, parse

from .conftest import mail

HEAD = "From: Alice <alice@example.com>\nTo: bob@example.com\nSubject: Hello\n"


def problems(result: ParsedMail) -> list[str]:
    """The defect problems of a parse result."""
    return [d.problem for d in result.defects]


def multipart(subtype: str, *parts: bytes, boundary: str = "b1") -> bytes:
    """A mail with HEAD whose body is a multipart of the given raw parts."""
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    return mail(HEAD + f"Content-Type: multipart/{subtype}; boundary={boundary}", body)


# --- 1. blank lines before the header ----------------------------------------


def test_blank_and_space_lines_before_header_are_skipped() -> None:
    """A line of spaces and an empty line before the first header lose nothing."""
    result = parse(b"    \n\r\n" + mail(HEAD, b"Body text\r\n"))
    assert result.sender is not None and result.sender.email == "alice@example.com"
    assert result.subject == "Hello" and result.text.strip() == "Body text"
    assert "blank lines before the headers" in problems(result)


def test_blank_line_before_prose_is_still_body() -> None:
    """Without a header after the blank lines the whole input stays text."""
    result = parse(b"\n\nJust some words.\n")
    assert result.sender is None and "Just some words." in result.text


def test_part_starting_with_blank_line_has_no_header() -> None:
    """A body part that starts with a blank line has an empty header (RFC 2046 5.1.1)."""
    result = parse(multipart("mixed", b"\r\nSubject: not a header\r\n"))
    assert "Subject: not a header" in result.text


# --- 2. byte order mark --------------------------------------------------------


def test_utf8_bom_before_header_is_removed() -> None:
    """A UTF-8 BOM before 'From:' does not turn the header into text."""
    result = parse(b"\xef\xbb\xbf" + mail(HEAD, b"Body\r\n"))
    assert result.sender is not None and result.sender.email == "alice@example.com"
    assert result.subject == "Hello" and "\ufeff" not in result.text
    assert "byte order mark before the headers" in problems(result)


# --- 3. stray lines inside a header block -----------------------------------------


def test_mangled_header_line_does_not_end_the_header() -> None:
    """'quite Delivered-To: ...' inside the header: the fields after it are kept."""
    raw = mail(
        "Received-SPF: softfail\nquite Delivered-To: x@example.net\n" + HEAD,
        b"Body text\r\n",
    )
    result = parse(raw)
    assert result.subject == "Hello" and result.text.strip() == "Body text"
    assert result.sender is not None and result.sender.email == "alice@example.com"
    assert any("not a header field" in p for p in problems(result))


def test_unindented_junk_token_line_is_a_continuation() -> None:
    """A badly folded Exchange value (one token, no indentation) does not end the header."""
    raw = mail(
        "X-Diagnostics: 1;AM4PR01MB1442;6:abc\nP8FxVksOO2tmFWl+LxT0Acgv7RaCF\n" + HEAD,
        b"Body text\r\n",
    )
    result = parse(raw)
    assert result.subject == "Hello" and result.text.strip() == "Body text"


def test_unindented_boundary_parameter() -> None:
    """'boundary=...' wrapped onto an unindented line after ';' still splits the multipart."""
    body = (
        b"--b2\r\nContent-Type: text/plain\r\n\r\nThe report\r\n"
        b"--b2\r\nContent-Type: text/html\r\n\r\n<p>The report</p>\r\n--b2--\r\n"
    )
    ctype = 'Content-Type: multipart/alternative; differences=Content-Type;\nboundary="b2"'
    result = parse(mail(HEAD + ctype, body))
    assert result.text.strip() == "The report"
    assert "--b2" not in result.text and "boundary=" not in result.text


def test_unindented_name_parameter_in_part_header() -> None:
    """An unindented 'name=...' line in a part header keeps the headers after it."""
    part = (
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Type: application/zip; x-unix-mode=0600;\r\n"
        b'name="foo.zip"\r\n'
        b'Content-Disposition: attachment; filename="foo.zip"\r\n\r\n'
        b"PGh0bWw+Cg==\r\n"
    )
    result = parse(multipart("mixed", b"Content-Type: text/plain\r\n\r\nhi\r\n", part))
    assert [(a.filename, a.size) for a in result.attachments] == [("foo.zip", 7)]


def test_body_right_after_headers_without_blank_line() -> None:
    """Prose right after the header (no blank line) is the body, even before 'Name:' lines."""
    raw = (HEAD + "Dear Bob, here are my details\nName: Carol\nPhone: 123\n\nThanks\n").encode()
    result = parse(raw)
    assert result.subject == "Hello"
    assert "Dear Bob" in result.text and "Name: Carol" in result.text
    assert "no blank line after the headers" in problems(result)


def test_many_stray_lines_are_linear_and_reported_once() -> None:
    """Ten thousand stray lines inside a header parse quickly, with one defect."""
    raw = ("X-0: 0\n" + "junk\nX-A: 1\nX-B: 2\n" * 10_000 + HEAD + "\nBody\n").encode()
    result = parse(raw)
    assert result.subject == "Hello" and result.text.strip() == "Body"
    assert sum("not a header field" in p for p in problems(result)) == 1


# --- 4. 'From  :' is no mbox From_ line -----------------------------------------


def test_from_with_space_before_colon_is_a_header() -> None:
    """RFC 2822 A.6.3 obsolete 'From  :' is the From header, not an mbox separator."""
    result = parse(mail("From  : John Doe <jdoe@example.com>\nSubject : Saying Hello"))
    assert result.sender is not None and result.sender.email == "jdoe@example.com"
    assert result.subject == "Saying Hello"


def test_mbox_from_line_is_still_skipped() -> None:
    """A real mbox 'From addr date' line before the header is not a header."""
    result = parse(mail("From alice@example.com Wed Apr 27 14:15:31 2005\n" + HEAD))
    assert result.sender is not None and result.sender.email == "alice@example.com"
    assert [name for name, _ in result.headers][0] == "From"


# --- 5. multipart structure ----------------------------------------------------


def test_digest_parts_default_to_attached_messages() -> None:
    """In multipart/digest a part without Content-Type is message/rfc822 (RFC 2046 5.1.5)."""
    raw = multipart(
        "digest",
        b"Content-Type: text/plain\r\n\r\nTable of contents\r\n",
        b"\r\nFrom: c@example.com\r\nSubject: first\r\n\r\nmessage one\r\n",
        b"\r\nFrom: d@example.com\r\nSubject: second\r\n\r\nmessage two\r\n",
    )
    result = parse(raw)
    assert [(a.filename, a.content_type) for a in result.attachments] == [
        ("first.eml", "message/rfc822"),
        ("second.eml", "message/rfc822"),
    ]
    assert "Table of contents" in result.text and "message one" not in result.text


def test_mixed_html_beside_plain_is_in_the_text() -> None:
    """multipart/mixed shows its parts in turn: an HTML part's text joins the plain text."""
    raw = multipart(
        "mixed",
        b"Content-Type: text/html\r\n\r\n<html>This is an <b>html</b> body.</html>\r\n",
        b"Content-Type: text/plain\r\n\r\nSome plain text.\r\n",
    )
    result = parse(raw)
    assert result.text.index("This is an html body.") < result.text.index("Some plain text.")
    assert result.html is not None and "html" in result.html


def test_mixed_html_repeating_the_plain_text_is_not_doubled() -> None:
    """An HTML part that only repeats a plain part (mislabelled alternative) is not shown twice."""
    raw = multipart(
        "mixed",
        b"Content-Type: text/plain\r\n\r\nSame words here.\r\n",
        b"Content-Type: text/html\r\n\r\n<p>Same words here.</p>\r\n",
    )
    assert parse(raw).text.count("Same words here.") == 1


def test_alternative_shows_one_plain_text() -> None:
    """Of two text/plain alternatives only one is the text."""
    raw = multipart(
        "alternative",
        b"Content-Type: text/plain\r\n\r\nSection one\r\n",
        b"Content-Type: text/plain\r\n\r\nSection two\r\n",
    )
    result = parse(raw)
    assert "Section one" in result.text and "Section two" not in result.text


def test_alternative_plain_and_html() -> None:
    """Plain and HTML alternatives: the text is the plain one, the HTML view the HTML one."""
    raw = multipart(
        "alternative",
        b"Content-Type: text/plain\r\n\r\nPlain version\r\n",
        b"Content-Type: text/html\r\n\r\n<p>HTML version</p>\r\n",
    )
    result = parse(raw)
    assert result.text.strip() == "Plain version"
    assert result.html is not None and "HTML version" in result.html


def test_blank_plain_alternative_gives_way_to_html() -> None:
    """An empty text/plain alternative does not hide the HTML one's text."""
    raw = multipart(
        "alternative",
        b"Content-Type: text/plain\r\n\r\n\r\n",
        b"Content-Type: text/html\r\n\r\n<p>Only here</p>\r\n",
    )
    assert parse(raw).text.strip() == "Only here"


def test_enriched_alternative_is_no_attachment() -> None:
    """A text/enriched alternative (Apple Mail) is neither an attachment nor extra text."""
    raw = multipart(
        "alternative",
        b"Content-Type: text/plain\r\n\r\nXXXXX Xxxxx\r\n",
        b"Content-Type: text/enriched\r\n\r\n<bold>XXXXX Xxxxx</bold>\r\n",
    )
    result = parse(raw)
    assert result.attachments == [] and result.text.strip() == "XXXXX Xxxxx"


def test_enriched_only_body_becomes_text() -> None:
    """A text/enriched body alone is shown as plain text without its commands."""
    raw = mail(HEAD + "Content-Type: text/enriched", b"<bold>Hi</bold> <<there>\r\n\r\nBye\r\n")
    result = parse(raw)
    assert result.attachments == [] and result.text == "Hi <there>\nBye "


def test_uuencoded_file_in_plain_body_is_an_attachment() -> None:
    """'begin 644 name' ... 'end' in a plain body becomes a file, cut out of the text."""
    data = bytes(range(256)) * 3
    lines = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    body = b"See the file.\n\nbegin 644 photo.jpg\n" + lines + b"`\nend\n\nBye\n"
    result = parse(mail(HEAD, body))
    assert [(a.filename, a.data) for a in result.attachments] == [("photo.jpg", data)]
    assert "See the file." in result.text and "Bye" in result.text
    assert "begin 644" not in result.text


def test_broken_uuencode_block_stays_text() -> None:
    """A 'begin' block that does not decode is left in the text."""
    body = b"begin 644 notes.txt\nthis is not uuencode at all\nend\n"
    result = parse(mail(HEAD, body))
    assert result.attachments == [] and "this is not uuencode at all" in result.text
