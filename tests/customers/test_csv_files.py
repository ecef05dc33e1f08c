"""Customers to and from CSV: UTF-8 with a byte order mark and Shift_JIS for Excel users,
Japanese headers, each line kept or refused on its own."""

from __future__ import annotations

import csv
import io

import pytest

from madoguchi.conversations.models import Contact
from madoguchi.customers import actions, csv_files
from tests.factories import make_agent, make_conversation, make_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():  # type: ignore[no-untyped-def]
    box = make_mailbox("support@example.jp")
    make_conversation(box, sender="山田 太郎 <yamada@tokyo-shoji.example>", message_id="a@x")
    actions.save_field(actor_id=None, key="member_no", label="会員番号", kind="number")
    yamada = Contact.objects.get(addresses__email="yamada@tokyo-shoji.example")
    actions.update_customer(yamada, actor_id=None, values={"company": "東京商事"},
                            fields={"member_no": "1001"})  # fmt: skip
    return make_agent("boss", role="admin")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_in_utf8_with_the_mark_and_in_shift_jis(boss) -> None:  # type: ignore[no-untyped-def]
    data, lost = csv_files.export(boss, "utf-8")
    assert data.startswith(b"\xef\xbb\xbf") and lost == 0
    header, row = _rows(data.decode("utf-8-sig"))
    assert header[:3] == ["id", "name", "emails"] and header[-1] == "member_no"
    assert row[1:4] == ["山田 太郎", "yamada@tokyo-shoji.example", "東京商事"]
    assert row[-1] == "1001"
    yamada = Contact.objects.get(name="山田 太郎")
    actions.update_customer(yamada, actor_id=None, values={"notes": "①髙橋さん経由 🙂"}, fields={})
    data, lost = csv_files.export(boss, "shift_jis")
    text = data.decode("cp932")  # ① and 髙 are in Windows' Shift_JIS; the emoji is not
    assert "①髙橋さん経由 ?" in text and lost == 1


def test_import_utf8_and_shift_jis_with_japanese_headers(boss) -> None:  # type: ignore[no-untyped-def]
    sjis = "名前,メールアドレス,会社名,会員番号\r\n佐藤 花子,hanako@osaka.example,大阪物産,2002\r\n"
    got = csv_files.import_file(boss, sjis.encode("cp932"))
    assert (got.created, got.updated, got.rejected) == (1, 0, [])
    hanako = Contact.objects.get(addresses__email="hanako@osaka.example")
    assert (hanako.name, hanako.company, hanako.fields) == ("佐藤 花子", "大阪物産",
                                                            {"member_no": "2002"})  # fmt: skip
    utf8 = ("\ufeffemails,phone,member_no\n"
            "YAMADA@tokyo-shoji.example,03-1111-2222,1001\n"
            "not-an-address,,\n"
            "new@x.example,,千二百\n"
            ",,\n")  # fmt: skip
    got = csv_files.import_file(boss, utf8.encode("utf-8"))
    assert (got.created, got.updated) == (0, 1)
    assert got.rejected == [(3, "email", "not-an-address"), (4, "number", "千二百")]
    yamada = Contact.objects.get(addresses__email="yamada@tokyo-shoji.example")
    assert yamada.phone == "03-1111-2222"
    assert not Contact.objects.filter(addresses__email="new@x.example").exists()


def test_a_round_trip_changes_nothing(boss) -> None:  # type: ignore[no-untyped-def]
    data, _ = csv_files.export(boss, "utf-8")
    got = csv_files.import_file(boss, data)
    assert (got.created, got.updated, got.rejected) == (0, 1, [])
    assert csv_files.export(boss, "utf-8")[0] == data


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00\x00broken", "encoding"),
        ("会社,電話\n東京商事,03\n".encode(), "columns"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(boss, data: bytes, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(csv_files.BadFile) as bad:
        csv_files.import_file(boss, data)
    assert bad.value.code == code


def test_a_name_that_looks_like_a_formula_is_exported_as_text(boss) -> None:  # type: ignore[no-untyped-def]
    yamada = Contact.objects.get(name="山田 太郎")
    formula = '=HYPERLINK("https://evil.example","請求書")'
    actions.update_customer(yamada, actor_id=None, values={"name": formula, "phone": "+81-3"},
                            fields={})  # fmt: skip
    data, _ = csv_files.export(boss, "utf-8")
    row = _rows(data.decode("utf-8-sig"))[1]
    assert row[1] == "'" + formula and row[4] == "'+81-3"
    csv_files.import_file(boss, data)  # read back: the apostrophe goes again
    yamada.refresh_from_db()
    assert (yamada.name, yamada.phone) == (formula, "+81-3")
