"""Values made safe to stand in an outbound header: pure, no Django.

Everything that reaches a header of a mail we send (a subject, an agent's or a mailbox's
name, a customer's address, an attachment's name from an upload, a forwarded mail or a
winmail.dat) passes through here first, so no input can end a header line and start
another ("Subject: x\\r\\nBcc : y"), whatever the charset path does with it afterwards.

- Line breaks of every kind (CR, LF, NEL, U+2028/U+2029, and the other characters that
  ``str.splitlines`` splits at) and other control characters become one space.
- Lone surrogates (undecodable bytes kept by ``surrogateescape``) become U+FFFD, so
  encoding never fails.
- Addresses are checked, not repaired: an address with anything an addr-spec may not
  hold raises ``UnsafeAddress`` (forms check with the same function first).
"""

from __future__ import annotations

import re
import unicodedata

#: Direction overrides that make "txt.exe" look like "exe.txt" in a file name.
_BIDI = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_SPACES = re.compile(r"[ \t]+")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(_LABEL + r"(?:\." + _LABEL + ")*")
_TOKEN = r"[A-Za-z0-9!#$&^_.+\-]{1,127}"
_CONTENT_TYPE = re.compile(_TOKEN + "/" + _TOKEN)
_MSG_ID_DROP = re.compile(r"[^!-;=?-~]")  # printable ASCII except "<", ">" (and no space)

MAX_HEADER_CHARS = 900  # a header line stays under RFC 5322's 998 even unfolded
MAX_FILE_NAME = 255


class UnsafeAddress(ValueError):
    """A mail address that cannot be written into a header as it is."""


def _char(char: str) -> str:
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    if category == "Cs":
        return "\ufffd"
    return char


def one_line(value: str, *, limit: int = MAX_HEADER_CHARS) -> str:
    """``value`` as one header line: no line break or control character, spaces collapsed."""
    text = "".join(_char(c) for c in value) if not value.isprintable() else value
    return _SPACES.sub(" ", text).strip()[:limit].strip()


def file_name(name: str, *, fallback: str = "file") -> str:
    """A file name safe for headers and for the disk: one line, no path, no direction
    overrides, no leading dots, at most 255 characters; ``fallback`` if nothing is left."""
    text = one_line(name.translate(_BIDI), limit=10_000)
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".").strip()
    if len(text) > MAX_FILE_NAME:  # keep the extension, shorten the stem
        stem, dot, ext = text.rpartition(".")
        text = (stem[: MAX_FILE_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else ""
        text = text or name[:MAX_FILE_NAME]
        text = one_line(text.translate(_BIDI))[:MAX_FILE_NAME]
    return text or fallback


def mail_address(email: str) -> str:
    """The addr-spec ``local@domain`` (domain IDNA-encoded), or ``UnsafeAddress``.

    Only dot-atom local parts are accepted: a quoted local part ("a b"@example.jp) is valid
    RFC 5322 but is where header tricks hide, and no customer needs it.
    """
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain or len(email) > 254:
        raise UnsafeAddress(email)
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeAddress(email) from None
    if not (_LOCAL.fullmatch(local) and _DOMAIN.fullmatch(domain)):
        raise UnsafeAddress(email)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise UnsafeAddress(email)
    return f"{local}@{domain}"


def content_type(value: str) -> str:
    """``type/subtype`` in lower case, or application/octet-stream for anything else."""
    text = value.split(";", 1)[0].strip().lower()
    return text if _CONTENT_TYPE.fullmatch(text) else "application/octet-stream"


def msg_id(value: str) -> str:
    """A Message-ID without ``<>``, whitespace or anything unprintable ('' if none left)."""
    return _MSG_ID_DROP.sub("", value)[:900]
