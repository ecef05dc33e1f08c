"""The customers pages over HTTP: permissions, editing, merging and undoing, fields,
import and export; bad input gets a clear message, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from madoguchi.conversations.models import Contact
from madoguchi.customers import actions
from madoguchi.customers.models import CustomerField, CustomerMerge
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


def _customer(team: dict[str, Any], email: str, box: str = "support", n: int = 1) -> Contact:
    make_conversation(team[box], subject=f"問い合わせ {n}", sender=f"客 <{email}>",
                      message_id=f"m{n}@x.example")  # fmt: skip
    return Contact.objects.get(addresses__email=email)


def test_the_customer_page_shows_details_and_history(team):
    yamada = _customer(team, "yamada@tokyo-shoji.example")
    conv_url = f"/c/{yamada.conversations.get().pk}/"
    client = client_for(team["sato"])
    html = client.get(f"/customers/{yamada.pk}/").content.decode()
    assert "yamada@tokyo-shoji.example" in html and conv_url in html
    assert f'href="/customers/{yamada.pk}/"' in client.get(conv_url).content.decode()
    listing = client.get("/customers/", {"q": "tokyo-shoji"}).content.decode()
    assert f'data-customer="{yamada.pk}"' in listing
    assert "顧客" in client.get("/", follow=True).content.decode()  # in the rail


def test_a_customer_of_another_mailbox_is_not_found(team):
    other = _customer(team, "b@sales-only.example", box="sales")
    client = client_for(team["sato"])
    for url in (f"/customers/{other.pk}/", f"/customers/{other.pk}/edit"):
        response = client.post(url, {"name": "x"}) if url.endswith("edit") else client.get(url)
        assert response.status_code == 404
    assert client.post(f"/customers/{_customer(team, 'a@x.example').pk}/merge",
                       {"other": "b@sales-only.example"}).status_code == 302  # fmt: skip
    assert Contact.objects.get(pk=other.pk).merged_into_id is None


def test_editing_with_a_bad_field_value_says_so(team):
    actions.save_field(actor_id=None, key="renewal", label="契約更新日", kind="date")
    yamada = _customer(team, "yamada@tokyo-shoji.example")
    client = client_for(team["sato"])
    edit = f"/customers/{yamada.pk}/edit"
    response = client.post(edit, {"company": "東京商事", "field_renewal": "来月"}, follow=True)
    assert "契約更新日: 「来月」は日付として読めません" in response.content.decode()
    yamada.refresh_from_db()
    assert yamada.company == "" and yamada.fields == {}
    client.post(edit, {"company": "東京商事", "field_renewal": "2027/4/1"})
    yamada.refresh_from_db()
    assert (yamada.company, yamada.fields) == ("東京商事", {"renewal": "2027-04-01"})
    too_long = client.post(f"/customers/{yamada.pk}/edit", {"phone": "9" * 65})
    assert too_long.status_code == 400


def test_merge_and_undo_through_the_page(team):
    yamada = _customer(team, "yamada@tokyo-shoji.example")
    mobile = _customer(team, "t.yamada@gmail.com", n=2)
    client = client_for(team["sato"])
    response = client.post(f"/customers/{yamada.pk}/merge", {"other": "T.Yamada@gmail.com"})
    assert response.status_code == 302
    merge = CustomerMerge.objects.get()
    assert client.get(f"/customers/{mobile.pk}/").status_code == 302  # to the target
    html = client.get(f"/customers/{yamada.pk}/").content.decode()
    assert "t.yamada@gmail.com" in html and f"/customers/merges/{merge.pk}/undo" in html
    assert client.post(f"/customers/merges/{merge.pk}/undo").status_code == 302
    assert Contact.objects.get(pk=mobile.pk).merged_into_id is None
    assert client.post(f"/customers/merges/{merge.pk}/undo").status_code == 404
    nobody = client.post(f"/customers/{yamada.pk}/merge", {"other": "#999999"}, follow=True)
    assert nobody.status_code == 200


def test_fields_import_and_export_are_for_managers(team):
    sato = client_for(team["sato"])
    for url in ("/customers/fields/", "/customers/import", "/customers/export.csv"):
        assert sato.get(url).status_code == 403
    boss = client_for(make_agent("boss", role="admin"))
    boss.post("/customers/fields/", {"key": "plan", "label": "プラン", "kind": "choice",
                                     "choices": "ゴールド\nシルバー"})  # fmt: skip
    assert CustomerField.objects.get().choices == ["ゴールド", "シルバー"]
    bad_key = boss.post("/customers/fields/", {"key": "プラン", "label": "x", "kind": "text"})
    assert bad_key.status_code in (302, 400)
    _customer(team, "yamada@tokyo-shoji.example")
    exported = boss.get("/customers/export.csv", {"encoding": "shift_jis"})
    assert exported["Content-Type"] == "text/csv; charset=shift_jis"
    assert "yamada@tokyo-shoji.example" in exported.content.decode("cp932")
    upload = SimpleUploadedFile("c.csv", "名前,メール\n佐藤,sato@c.example\n,bad\n".encode("cp932"))
    html = boss.post("/customers/import", {"file": upload}).content.decode()
    assert "1 件追加、0 件更新、1 件取り込めませんでした。" in html
    assert "3 行目: 「bad」はメールアドレスではありません。" in html
    assert Contact.objects.filter(addresses__email="sato@c.example").exists()
    junk = SimpleUploadedFile("c.csv", b"\x00\x01\x02")
    assert boss.post("/customers/import", {"file": junk}).status_code == 200
    assert boss.get("/customers/export.csv", {"encoding": "latin-1"}).status_code == 400
