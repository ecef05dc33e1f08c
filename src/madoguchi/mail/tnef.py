"""Open Microsoft TNEF containers (winmail.dat, application/ms-tnef) with tnefparse.

Outlook wraps attachments (and sometimes the body) into a TNEF blob when it
sends "rich text" mail.  We extract the files so they show up as ordinary
attachments.  [MS-OXTNEF] describes the format.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from . import charsets
from .header_values import file_name

_LOG = logging.getLogger(__name__)


@dataclass
class TnefContent:
    """What was found inside one TNEF blob."""

    files: list[tuple[str, bytes]] = field(default_factory=list)
    text: str | None = None
    html: str | None = None


def _as_text(value: object) -> str | None:
    """Turn a tnefparse body attribute (bytes or str) into text."""
    if isinstance(value, str):
        return value.strip("\x00") or None
    if isinstance(value, bytes):
        text, _ = charsets.decode(value.rstrip(b"\x00"), None)
        return text or None
    return None


def _file_name(att: object, index: int) -> str:
    """Best file name of one TNEF attachment (long MAPI name, then 8.3 name), cleaned like
    every other file name (``header_values.file_name``): a name inside a winmail.dat is as
    untrusted as one in a MIME header, and may be forwarded out again."""
    return file_name(_raw_file_name(att), fallback=f"attachment-{index}.bin")


def _raw_file_name(att: object) -> str:
    for getter in ("long_filename",):
        try:
            name = getattr(att, getter)()
        except Exception:  # noqa: BLE001 - tnefparse decodes names loosely
            name = None
        if isinstance(name, bytes):
            name = charsets.decode(name.rstrip(b"\x00"), None)[0]
        if isinstance(name, str) and name.strip("\x00").strip():
            return name.strip("\x00").strip()
    raw = getattr(att, "_name", b"")
    if isinstance(raw, bytes) and raw.strip(b"\x00"):
        return charsets.decode(raw.strip(b"\x00"), None)[0]
    return ""


def open_tnef(data: bytes) -> TnefContent:
    """Parse a TNEF blob; raises ValueError when it is not valid TNEF."""
    import tnefparse  # local import: only needed for the rare winmail.dat

    try:
        blob = tnefparse.TNEF(data)
    except Exception as exc:  # noqa: BLE001 - tnefparse raises assorted errors
        raise ValueError(f"invalid TNEF: {exc}") from exc
    content = TnefContent()
    for index, att in enumerate(getattr(blob, "attachments", []) or [], start=1):
        payload = getattr(att, "data", b"")
        if isinstance(payload, bytes):
            content.files.append((_file_name(att, index), payload))
    content.text = _as_text(getattr(blob, "body", None))
    content.html = _as_text(getattr(blob, "htmlbody", None))
    return content
