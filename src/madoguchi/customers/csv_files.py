"""Customers to and from CSV files, as Excel users exchange them.

Cells that a spreadsheet would run as a formula are written as text (``core.spreadsheet``).

Export: UTF-8 with a byte order mark (Excel then reads Japanese right) or Shift_JIS
(Windows' cp932, for older Excel and the tools around it; a character it cannot hold
becomes "?", and the count of such values is returned). One line per customer: id, name,
the addresses (separated by spaces), company, phone, organization, notes, then one column
per team field (its key).

Import: the same columns (any order; a column may also be named by the field's label or
in Japanese: 名前, メールアドレス, 会社名, 電話番号, 組織, メモ), UTF-8 with or without
the mark, or Shift_JIS. A line updates the customer with its ``id``, else the one owning
one of its addresses, else adds a customer; each line is kept or refused on its own, and a
refused line says why (its number as Excel shows it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from madoguchi.accounts.models import Agent
from madoguchi.conversations.models import Contact, ContactAddress
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.spreadsheet import cell, uncell
from madoguchi.customers import actions
from madoguchi.customers.models import CustomerField
from madoguchi.customers.queries import visible_customers
from madoguchi.customers.values import BadValue

ENCODINGS = {"utf-8": "utf-8-sig", "shift_jis": "cp932"}
MAX_BYTES = 10 * 1024 * 1024
MAX_LINES = 50_000
BASE = ["id", "name", "emails", "company", "phone", "organization", "notes"]
#: Other names a column may have in a file made by hand.
ALIASES = {
    "名前": "name", "氏名": "name", "email": "emails", "メール": "emails",
    "メールアドレス": "emails", "会社": "company", "会社名": "company", "電話": "phone",
    "電話番号": "phone", "組織": "organization", "ドメイン": "organization", "メモ": "notes",
    "備考": "notes",
}  # fmt: skip


def export(agent: Agent, encoding: str) -> tuple[bytes, int]:
    """The customers ``agent`` sees, as a CSV file in ``encoding`` ("utf-8" or
    "shift_jis"); how many values lost a character Shift_JIS cannot hold."""
    fields = list(CustomerField.objects.all())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BASE + [f.key for f in fields])
    rows = visible_customers(agent).prefetch_related("addresses").order_by("pk")
    for contact in rows.iterator(chunk_size=2000):
        emails = " ".join(sorted(a.email for a in contact.addresses.all()))
        row = [contact.pk, contact.name, emails, contact.company, contact.phone,
               contact.organization, contact.notes] + [contact.fields.get(f.key, "")
                                                       for f in fields]  # fmt: skip
        writer.writerow([cell(value) for value in row])
    text = out.getvalue()
    if encoding == "shift_jis":
        lost = sum(1 for value in _cells(text) if not _fits_cp932(value))
        return text.encode("cp932", errors="replace"), lost
    return text.encode("utf-8-sig"), 0


def _cells(text: str) -> Iterable[str]:
    for row in csv.reader(io.StringIO(text)):
        yield from row


def _fits_cp932(value: str) -> bool:
    try:
        value.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


class BadFile(ValueError):
    """The file cannot be read at all: ``code`` is "size", "encoding", "empty", "lines",
    or "columns"."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    #: (line number, reason code, detail) of each refused line.
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without the mark), else Shift_JIS (cp932); UTF-16
    with its mark (Excel's "Unicode text")."""
    if len(data) > MAX_BYTES:
        raise BadFile("size")
    codecs = ["utf-16"] if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ["utf-8-sig", "cp932"]
    for codec in codecs:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a binary file, or UTF-16 without its mark
            return text
    raise BadFile("encoding")


def import_file(agent: Agent, data: bytes) -> Imported:
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise BadFile("empty")
    fields = {f.key: f for f in CustomerField.objects.all()}
    labels = {f.label: f.key for f in fields.values()}
    columns = [_column(name, fields, labels) for name in header]
    if "emails" not in columns and "id" not in columns:
        raise BadFile("columns", ", ".join(header)[:200])
    result = Imported()
    for number, row in enumerate(reader, start=2):
        if number > MAX_LINES + 1:
            raise BadFile("lines")
        if not any(text.strip() for text in row):
            continue
        record = {name: uncell(text) for name, text in zip(columns, row, strict=False) if name}
        try:
            with transaction.atomic():
                created = _apply(agent, record, fields)
        except BadValue as bad:
            result.rejected.append((number, bad.code, bad.value))
        except actions.AddressTaken as taken:
            result.rejected.append((number, "taken", taken.email))
        except _Refused as refused:
            result.rejected.append((number, refused.code, refused.detail))
        else:
            if created:
                result.created += 1
            else:
                result.updated += 1
    if result.created or result.updated or result.rejected:
        events.record(EventType.CUSTOMERS_IMPORTED, actor_id=agent.user_id,
                      created=result.created, updated=result.updated,
                      rejected=len(result.rejected))  # fmt: skip
    return result


class _Refused(ValueError):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail[:80]


def _column(name: str, fields: dict[str, CustomerField], labels: dict[str, str]) -> str:
    name = name.strip().lstrip("\ufeff")
    low = name.lower()
    if low in BASE:
        return low
    if name in ALIASES:
        return ALIASES[name]
    if name in fields:
        return name
    return labels.get(name, "")


def _emails(cell: str) -> list[str]:
    found = [part.strip().lower() for part in cell.replace(";", " ").replace(",", " ").split()]
    for email in found:
        local, at, domain = email.partition("@")
        if not (local and at and "." in domain) or len(email) > 320:
            raise _Refused("email", email)
    return found


def _apply(agent: Agent, record: dict[str, str], fields: dict[str, CustomerField]) -> bool:
    """Apply one line; whether it added a customer."""
    emails = _emails(record.get("emails", ""))
    contact = _existing(agent, record, emails)
    values = {k: record[k] for k in actions.DETAILS if k in record}
    custom = {k: v for k, v in record.items() if k in fields}
    if contact is None:
        if not emails:
            raise _Refused("no_email")
        name = values.pop("name", "")
        contact = actions.create_customer(actor_id=agent.user_id, name=name, emails=emails)
        actions.update_customer(contact, actor_id=agent.user_id, values=values, fields=custom)
        return True
    for email in emails:
        actions.add_address(contact, email, actor_id=None)
    actions.update_customer(contact, actor_id=agent.user_id, values=values, fields=custom)
    return False


def _existing(agent: Agent, record: dict[str, str], emails: list[str]) -> Contact | None:
    raw_id = record.get("id", "").strip()
    visible = visible_customers(agent)
    if raw_id:
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19):
            raise _Refused("id", raw_id)
        found = visible.filter(pk=int(raw_id)).first()
        if found is None:
            raise _Refused("id", raw_id)
        return found
    owners = ContactAddress.objects.filter(email__in=emails).values_list("contact_id", flat=True)
    ids = sorted(set(owners))
    if len(ids) > 1:
        raise _Refused("several", " ".join(emails))
    if ids:
        found = visible.filter(pk=ids[0]).first()
        if found is None:  # a customer this agent may not see owns the address
            raise _Refused("taken", emails[0])
        return found
    return None
