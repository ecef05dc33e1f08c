"""Saving, deleting and counting templates: rows, blob files and events."""

from __future__ import annotations

import pytest

from madoguchi.core import blobs
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.reply_templates import actions
from madoguchi.reply_templates.models import Folder, Template, TemplateAttachment
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db


def _events(type: EventType) -> list[Event]:
    return list(Event.objects.filter(type=type.value).order_by("pk"))


def test_create_update_and_delete_record_their_events(team):
    sato = team["sato"]
    made = actions.create_template(
        name="請求書の再発行",
        body="{{宛名}}\n再発行いたします。",
        mailbox_id=team["support"].pk,
        actor_id=sato.user_id,
    )
    saved = _events(EventType.TEMPLATE_SAVED)
    assert [(e.data["template"], e.data["change"], e.mailbox_id) for e in saved] == [
        (made.pk, "created", team["support"].pk)
    ]
    actions.update_template(made, actor_id=sato.user_id, name="請求書 再発行", body=made.body)
    assert _events(EventType.TEMPLATE_SAVED)[-1].data == {
        "template": made.pk,
        "name": "請求書 再発行",
        "change": "name",
    }
    actions.update_template(made, actor_id=sato.user_id, name="請求書 再発行")  # no change
    assert len(_events(EventType.TEMPLATE_SAVED)) == 2
    pk = made.pk
    actions.delete_template(made, actor_id=sato.user_id)
    assert not Template.objects.exists()
    assert _events(EventType.TEMPLATE_DELETED)[0].data == {"template": pk, "name": "請求書 再発行"}


def test_a_folder_must_fit_the_templates_mailbox(team):
    sales_folder = actions.create_folder(name="営業", mailbox_id=team["sales"].pk)
    shared_folder = actions.create_folder(name="共通", mailbox_id=None)
    with pytest.raises(actions.FolderMismatch):
        actions.create_template(
            name="x",
            body="x",
            mailbox_id=team["support"].pk,
            folder_id=sales_folder.pk,
            actor_id=None,
        )
    with pytest.raises(actions.FolderMismatch):
        actions.create_template(
            name="x", body="x", mailbox_id=None, folder_id=sales_folder.pk, actor_id=None
        )
    ok = actions.create_template(
        name="x", body="x", mailbox_id=team["support"].pk, folder_id=shared_folder.pk, actor_id=None
    )
    with pytest.raises(actions.FolderMismatch):
        actions.update_template(ok, actor_id=None, folder_id=sales_folder.pk)
    assert Template.objects.get(pk=ok.pk).folder_id == shared_folder.pk


def test_deleting_a_folder_keeps_its_templates(team):
    folder = actions.create_folder(name="配送", mailbox_id=None)
    actions.rename_folder(folder, name=" 配送・返品 ", position=3)
    assert Folder.objects.get(pk=folder.pk).name == "配送・返品"
    made = actions.create_template(name="x", body="x", folder_id=folder.pk, actor_id=None)
    actions.delete_folder(folder)
    assert Template.objects.get(pk=made.pk).folder_id is None


def test_files_are_stored_in_the_blob_store_and_named_safely(team):
    made = actions.create_template(name="カタログ送付", body="添付します", actor_id=None)
    data = b"%PDF-1.4 catalogue"
    att = actions.add_attachment(
        made,
        filename="カタログ\r\n2026.pdf",
        content_type="application/pdf",
        data=data,
        actor_id=None,
    )
    assert blobs.read(att.sha256) == data and att.size == len(data)
    assert "\n" not in att.filename and att.filename.endswith(".pdf")
    assert _events(EventType.TEMPLATE_SAVED)[-1].data["change"] == "attachment added"
    actions.remove_attachment(att, actor_id=None)
    assert not TemplateAttachment.objects.exists()
    assert blobs.exists(att.sha256)  # bytes stay: mails may share them


def test_a_use_counts_once_per_reply_with_an_event_in_the_conversation(team):
    conv = make_conversation(team["support"])
    shared = actions.create_template(name="お礼", body="ありがとうございます", actor_id=None)
    own = actions.create_template(
        name="請求", body="x", mailbox_id=team["support"].pk, actor_id=None
    )
    other = actions.create_template(
        name="営業", body="x", mailbox_id=team["sales"].pk, actor_id=None
    )
    counted = actions.count_use(
        [shared.pk, own.pk, shared.pk, other.pk, 999_999], conv=conv, actor_id=team["sato"].user_id
    )
    assert counted == 2
    rows = {t.pk: t for t in Template.objects.all()}
    assert rows[shared.pk].use_count == rows[own.pk].use_count == 1
    assert rows[other.pk].use_count == 0 and rows[other.pk].last_used_at is None
    assert rows[shared.pk].last_used_at is not None
    used = _events(EventType.TEMPLATE_USED)
    assert [(e.conversation_id, e.data["template"], e.data["name"]) for e in used] == [
        (conv.pk, shared.pk, "お礼"),
        (conv.pk, own.pk, "請求"),
    ]
    assert all(e.actor_id == team["sato"].user_id for e in used)
    actions.count_use([shared.pk], conv=conv, actor_id=None)
    assert Template.objects.get(pk=shared.pk).use_count == 2
    assert actions.count_use([], conv=conv, actor_id=None) == 0


def test_unknown_fields_are_refused(team):
    made = actions.create_template(name="x", body="x", actor_id=None)
    with pytest.raises(TypeError):
        actions.update_template(made, actor_id=None, use_count=100)
