"""Read the headers of an outbound mail the way the most lenient MTA or mail program would.

Python's own parser ignores "Bcc : x" (a space before the colon) and so would not show
an injected header; RFC 5322's obsolete syntax allows that space, and Postfix, Outlook and
others take such a line as a Bcc. So this reads raw lines: in the header block of the mail
and of every MIME part, a line that does not begin with white space starts a header whose
name is what comes before the first colon, spaces trimmed.
"""

from __future__ import annotations

import email
import re
from email.message import Message

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

TOP = {
    "from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
    "mime-version", "content-type", "content-transfer-encoding",
}  # fmt: skip
PART = {"content-type", "content-transfer-encoding", "content-disposition", "mime-version"}


def _names(lines: list[bytes]) -> list[str]:
    names = []
    for line in lines:
        assert not _CONTROL.search(line), f"control character in a header line: {line!r}"
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        assert colon, f"a header line without a colon: {line!r}"
        names.append(name.strip().decode("ascii", "replace").lower())
    return names


def header_blocks(data: bytes) -> list[list[str]]:
    """The header names of the mail, then of each MIME part, in order.

    Also asserts that every line ends in CRLF: a bare CR or LF is a line break to some
    programs and not to others, which is how a header hides from one and not the other.
    """
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    lines = data.split(b"\r\n")
    end = lines.index(b"")
    blocks = [_names(lines[:end])]
    boundaries = set()
    for part in email.message_from_bytes(data).walk():
        assert isinstance(part, Message)
        if part.is_multipart() and part.get_boundary():
            boundaries.add(b"--" + str(part.get_boundary()).encode("ascii"))
    index = end
    while index < len(lines):
        if lines[index] in boundaries:
            start = index + 1
            stop = lines.index(b"", start)
            blocks.append(_names(lines[start:stop]))
            index = stop
        index += 1
    return blocks


def assert_only_intended_headers(data: bytes, *, top: set[str]) -> list[list[str]]:
    """The mail has exactly the headers ``top`` (each once), and its parts only MIME ones."""
    blocks = header_blocks(data)
    first, *parts = blocks
    assert sorted(first) == sorted(top), f"headers {first}, expected {sorted(top)}"
    for names in parts:
        assert set(names) <= PART and len(names) == len(set(names)), f"part headers {names}"
    return blocks
