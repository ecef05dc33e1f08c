"""Templates over HTTP: the managers' pages, who may do what, the composer's JSON, and
replies that use templates (counted, files attached, a reminder set)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.conversations.models import Attachment, Conversation
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.reply_templates import actions
from madoguchi.reply_templates.models import Folder, Template, TemplateAttachment
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db

CUSTOMER = "tanaka@tokyo-shoji.example"


@pytest.fixture
def manager(team):
    return make_agent("suzuki", role=Role.MANAGER, mailboxes=[team["support"]])


@pytest.fixture
def admin(team):
    return make_agent("boss", role=Role.ADMIN)


@pytest.fixture
def conv(team):
    return make_conversation(team["support"], sender=f"田中 一郎 <{CUSTOMER}>")


@pytest.fixture
def made(team):
    shared = actions.create_template(
        name="受付のお知らせ", actor_id=None, body="{{宛名}}\nお問い合わせありがとうございます。"
    )
    own = actions.create_template(
        name="請求書の再発行",
        mailbox_id=team["support"].pk,
        actor_id=None,
        body="{{宛名}}\n担当の{{担当者名}}です。{{問い合わせ番号}}の請求書を添付します。",
    )
    other = actions.create_template(
        name="見積もり", body="x", mailbox_id=team["sales"].pk, actor_id=None
    )
    return {"shared": shared, "own": own, "other": other}


def _file(template: Template, name: str = "請求書.pdf", data: bytes = b"%PDF-1.4 bill"):
    return actions.add_attachment(
        template, filename=name, content_type="application/pdf", data=data, actor_id=None
    )


# --- who may do what ----------------------------------------------------------------------


def test_agents_may_not_manage_templates(team, made):
    client = client_for(team["sato"])
    for url in ("/admin/templates/", "/admin/templates/new", f"/admin/templates/{made['own'].pk}/"):
        assert client.get(url).status_code == 403
    assert client.post("/admin/templates/new", {"name": "x", "body": "x"}).status_code == 403
    assert client.post(f"/admin/templates/{made['own'].pk}/delete").status_code == 403
    assert Template.objects.count() == 3


def test_signed_out_goes_to_sign_in(made):
    from django.test import Client

    response = Client().get("/admin/templates/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_manager_manages_their_mailboxs_templates_only(manager, made):
    client = client_for(manager)
    page = client.get("/admin/templates/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "請求書の再発行" in page and "受付のお知らせ" in page and "見積もり" not in page
    assert f'href="/admin/templates/{made["own"].pk}/"' in page
    assert f'href="/admin/templates/{made["shared"].pk}/"' not in page  # shared: read only
    assert client.get(f"/admin/templates/{made['own'].pk}/").status_code == 200
    assert client.get(f"/admin/templates/{made['shared'].pk}/").status_code == 403
    assert client.get(f"/admin/templates/{made['other'].pk}/").status_code == 404
    assert client.post(f"/admin/templates/{made['other'].pk}/delete").status_code == 404


def test_only_admins_share_a_template_with_every_mailbox(manager, admin, team):
    response = client_for(manager).post(
        "/admin/templates/new",
        {
            "name": "全窓口共通",
            "body": "x",
            "mailbox": "",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Only an admin may share a template" in response.content.decode()
    response = client_for(manager).post(
        "/admin/templates/new",
        {
            "name": "x",
            "body": "x",
            "mailbox": str(team["sales"].pk),
        },
    )
    assert response.status_code == 400  # not one of their mailboxes
    response = client_for(admin).post(
        "/admin/templates/new",
        {
            "name": "全窓口共通",
            "body": "x",
            "mailbox": "",
        },
    )
    assert response.status_code == 302
    assert Template.objects.get(name="全窓口共通").mailbox_id is None


# --- the pages ----------------------------------------------------------------------------


def test_create_and_edit_a_template_in_a_folder(manager, team):
    client = client_for(manager)
    response = client.post(
        "/admin/templates/folders/new", {"name": "請求", "mailbox": str(team["support"].pk)}
    )
    assert response.status_code == 302
    folder = Folder.objects.get(name="請求")
    response = client.post(
        "/admin/templates/new",
        {
            "name": "  請求書の\n再発行 ",
            "mailbox": str(team["support"].pk),
            "folder": str(folder.pk),
            "subject": "",
            "body": "{{宛名}}\n再発行いたしました。",
        },
    )
    assert response.status_code == 302
    made = Template.objects.get()
    assert made.name == "請求書の 再発行" and made.folder_id == folder.pk
    assert response["Location"] == f"/admin/templates/{made.pk}/"
    response = client.post(
        f"/admin/templates/{made.pk}/",
        {
            "name": "請求書の再発行",
            "mailbox": str(team["support"].pk),
            "folder": "",
            "subject": "請求書の件",
            "body": "{{宛名}}\n再発行いたしました。",
        },
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.folder_id is None and made.subject == "請求書の件"
    changes = [e.data["change"] for e in Event.objects.filter(type=EventType.TEMPLATE_SAVED)]
    assert changes == ["created", "name,subject,folder"]


def test_a_folder_of_another_mailbox_is_refused_beside_the_field(admin, team):
    sales = Folder.objects.create(name="営業", mailbox=team["sales"])
    response = client_for(admin).post(
        "/admin/templates/new",
        {
            "name": "x",
            "body": "x",
            "mailbox": str(team["support"].pk),
            "folder": str(sales.pk),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "That folder belongs to another mailbox." in response.content.decode()


def test_the_editor_previews_the_variables_for_a_real_conversation(manager, made, conv):
    page = (
        client_for(manager)
        .get(f"/admin/templates/{made['own'].pk}/", HTTP_ACCEPT_LANGUAGE="ja")
        .content.decode()
    )
    assert f"#{conv.pk}" in page
    assert "田中 一郎 様\n担当の鈴木 一郎です。" in page  # the manager is the "agent"
    assert "{{customer_sama}}" in page and "{{宛名}}" in page  # the list of variables


def test_the_live_preview_answers_json(manager, made, conv, team):
    client = client_for(manager)
    response = client.post(
        "/admin/templates/preview",
        {
            "body": "{{お客様名}}様 {{today}} {{nope}}",
            "subject": "Re: {{件名}}",
            "mailbox": str(team["support"].pk),
        },
    )
    data = response.json()
    assert data["text"].startswith("田中 一郎様 20") and data["text"].endswith(" {{nope}}")
    assert data["subject"] == "Re: 請求書の件" and data["sample"].startswith(f"#{conv.pk} ")
    assert client.post("/admin/templates/preview", {"body": "x" * 100_001}).status_code == 400
    assert (
        client.post("/admin/templates/preview", {"body": "x", "mailbox": "abc"}).status_code == 400
    )
    assert (
        client_for(team["sato"]).post("/admin/templates/preview", {"body": "x"}).status_code == 403
    )


def test_files_are_uploaded_downloaded_and_removed(manager, made):
    client = client_for(manager)
    url = f"/admin/templates/{made['own'].pk}/files"
    response = client.post(
        url, {"upload": [SimpleUploadedFile("請求書.pdf", b"%PDF-1.4", "application/pdf")]}
    )
    assert response.status_code == 302
    att = TemplateAttachment.objects.get()
    assert att.filename == "請求書.pdf" and att.size == 8
    download = client.get(f"/admin/templates/{made['own'].pk}/files/{att.pk}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4"
    assert client.post(url, {}).status_code == 400  # no file chosen
    assert (
        client.post(f"/admin/templates/{made['own'].pk}/files/{att.pk}/remove").status_code == 302
    )
    assert not TemplateAttachment.objects.exists()
    assert (
        client.post(f"/admin/templates/{made['own'].pk}/files/{att.pk}/remove").status_code == 404
    )


def test_files_over_the_mailboxs_limit_are_refused(manager, made, team):
    from madoguchi.mailboxes.actions import update_mailbox

    update_mailbox(team["support"], max_message_bytes=1024)
    response = client_for(manager).post(
        f"/admin/templates/{made['own'].pk}/files",
        {"upload": [SimpleUploadedFile("big.bin", b"x" * 2048)]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "Too large" in response.content.decode()
    assert not TemplateAttachment.objects.exists()


def test_delete_a_template(manager, made, team):
    response = client_for(manager).post(f"/admin/templates/{made['own'].pk}/delete")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/templates/?mailbox={team['support'].pk}"
    assert not Template.objects.filter(pk=made["own"].pk).exists()


def test_the_list_shows_use_counts_filters_and_sorts(admin, made, conv, team):
    actions.count_use([made["own"].pk], conv=conv, actor_id=None)
    actions.count_use([made["own"].pk], conv=conv, actor_id=None)
    client = client_for(admin)
    page = client.get("/admin/templates/?sort=used", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.index("請求書の再発行") < page.index("受付のお知らせ") < page.index("見積もり")
    assert '<td class="num use-count">2</td>' in page and "never" in page
    only = client.get(f"/admin/templates/?mailbox={team['sales'].pk}").content.decode()
    assert "見積もり" in only and "受付のお知らせ" in only and "請求書の再発行" not in only
    found = client.get("/admin/templates/?q=せいきゅうしょ").content.decode()
    assert "請求書の再発行" not in found  # kana folding finds katakana, not kanji
    found = client.get("/admin/templates/?q=ありがとう").content.decode()
    assert "受付のお知らせ" in found and "請求書の再発行" not in found


def test_folders_are_renamed_and_deleted(admin, made):
    folder = actions.create_folder(name="共通", mailbox_id=None)
    client = client_for(admin)
    assert (
        client.post(
            f"/admin/templates/folders/{folder.pk}", {"name": "共通文", "position": "2"}
        ).status_code
        == 302
    )
    folder.refresh_from_db()
    assert (folder.name, folder.position) == ("共通文", 2)
    assert client.post(f"/admin/templates/folders/{folder.pk}/delete").status_code == 302
    assert not Folder.objects.exists()


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/admin/templates/?mailbox=abc", {}),
        ("get", "/admin/templates/?mailbox=99999999999999999999999", {}),
        ("get", "/admin/templates/?sort=bogus", {}),
        ("get", "/admin/templates/?q=" + "x" * 300, {}),
        ("get", "/admin/templates/new?mailbox=%00", {}),
        ("post", "/admin/templates/new", {"name": "x", "body": "x", "mailbox": "abc"}),
        ("post", "/admin/templates/new", {"name": "x", "body": "x", "folder": "9" * 40}),
        ("post", "/admin/templates/new", {"name": "\n", "body": ""}),
        ("post", "/admin/templates/folders/new", {"name": "", "mailbox": "x"}),
        ("post", "/admin/templates/folders/new", {"name": "x", "position": "-1"}),
        ("get", "/c/{conv}/templates.json?q=" + "x" * 2000, {}),
        ("get", "/c/{conv}/templates.json?q=a&q=b", {}),
    ],
)
def test_bad_input_is_refused_never_a_500(admin, made, conv, method, url, data):  # noqa: PLR0917
    client = client_for(admin)
    response = getattr(client, method)(url.format(conv=conv.pk), data)
    assert response.status_code in (302, 400, 404)


def test_missing_things_are_404(admin, made):
    client = client_for(admin)
    assert client.get("/admin/templates/999999/").status_code == 404
    assert client.get("/admin/templates/?mailbox=999999").status_code == 404
    assert client.post("/admin/templates/folders/999999/delete").status_code == 404
    assert client.get(f"/admin/templates/{made['own'].pk}/files/999999").status_code == 404


# --- the composer's JSON ------------------------------------------------------------------


def test_the_composer_lists_and_searches_usable_templates(team, made, conv):
    _file(made["own"])
    client = client_for(team["sato"])
    found = client.get(f"/c/{conv.pk}/templates.json").json()["templates"]
    assert {t["name"] for t in found} == {"受付のお知らせ", "請求書の再発行"}
    own = next(t for t in found if t["name"] == "請求書の再発行")
    assert own["files"] == 1 and not own["shared"]
    assert own["snippet"].startswith(f"田中 一郎 様 担当の佐藤 花子です。#{conv.pk}")
    found = client.get(f"/c/{conv.pk}/templates.json", {"q": "せいきゅう"}).json()["templates"]
    assert found == []
    found = client.get(f"/c/{conv.pk}/templates.json", {"q": "請求 添付"}).json()["templates"]
    assert [t["name"] for t in found] == ["請求書の再発行"]


def test_the_composer_gets_a_template_filled_for_the_conversation(team, made, conv):
    att = _file(made["own"])
    data = client_for(team["sato"]).get(f"/c/{conv.pk}/templates/{made['own'].pk}.json").json()
    assert data["text"] == f"田中 一郎 様\n担当の佐藤 花子です。#{conv.pk}の請求書を添付します。"
    assert data["files"] == [{"id": att.pk, "name": "請求書.pdf", "size": 13}]


def test_the_composer_checks_the_conversation_and_the_template(team, made, conv):
    kato = client_for(team["kato"])  # of the sales mailbox only
    assert kato.get(f"/c/{conv.pk}/templates.json").status_code == 404
    assert kato.get(f"/c/{conv.pk}/templates/{made['shared'].pk}.json").status_code == 404
    sato = client_for(team["sato"])
    assert sato.get(f"/c/{conv.pk}/templates/{made['other'].pk}.json").status_code == 404
    assert sato.get(f"/c/{conv.pk}/templates/999999.json").status_code == 404


def test_a_new_conversation_uses_the_mailboxs_templates(team, made):
    client = client_for(team["sato"])
    box = team["support"].pk
    names = {t["name"] for t in client.get(f"/m/{box}/templates.json").json()["templates"]}
    assert names == {"受付のお知らせ", "請求書の再発行"}
    data = client.get(f"/m/{box}/templates/{made['own'].pk}.json").json()
    assert data["text"].startswith("{{宛名}}\n担当の佐藤 花子です。{{問い合わせ番号}}")
    assert client.get(f"/m/{team['sales'].pk}/templates.json").status_code == 404


# --- replies that use templates -----------------------------------------------------------


def _reply(client, conv, **extra):
    data = {"to": CUSTOMER, "text": "田中 一郎 様\n請求書を添付します。", "then": "send", **extra}
    return client.post(f"/c/{conv.pk}/reply", data, HTTP_ACCEPT_LANGUAGE="en")


def test_a_reply_counts_its_templates_and_carries_their_files(team, made, conv):
    att = _file(made["own"])
    response = _reply(
        client_for(team["sato"]),
        conv,
        templates=[str(made["own"].pk), str(made["shared"].pk), str(made["other"].pk)],
        template_files=[str(att.pk)],
    )
    assert response.status_code == 302
    sent = conv.messages.filter(direction="out").get()
    assert [(a.filename, a.sha256) for a in Attachment.objects.filter(message=sent)] == [
        ("請求書.pdf", att.sha256)
    ]
    counts = dict(Template.objects.values_list("name", "use_count"))
    assert counts == {"受付のお知らせ": 1, "請求書の再発行": 1, "見積もり": 0}
    used = Event.objects.filter(type=EventType.TEMPLATE_USED, conversation=conv)
    assert {e.data["name"] for e in used} == {"受付のお知らせ", "請求書の再発行"}


def test_a_file_of_another_mailboxs_template_is_refused(team, made, conv):
    theirs = _file(made["other"], "見積書.pdf")
    response = _reply(client_for(team["sato"]), conv, template_files=[str(theirs.pk)])
    assert response.status_code == 400
    assert "no longer available" in response.content.decode()
    assert not conv.messages.filter(direction="out").exists()


def test_a_file_removed_meanwhile_is_refused_and_the_others_stay(team, made, conv):
    kept, gone = _file(made["own"], "a.pdf", b"a"), _file(made["own"], "b.pdf", b"b")
    gone_id = gone.pk
    actions.remove_attachment(gone, actor_id=None)
    response = _reply(
        client_for(team["sato"]),
        conv,
        templates=[str(made["own"].pk)],
        template_files=[str(kept.pk), str(gone_id)],
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert f'name="template_files" value="{kept.pk}"' in page
    assert f'name="template_files" value="{gone_id}"' not in page
    assert f'name="templates" value="{made["own"].pk}"' in page
    assert Template.objects.get(pk=made["own"].pk).use_count == 0


def test_template_ids_that_are_not_ids_are_refused(team, made, conv):
    for bad in (["abc"], ["9" * 40], ["-1"], [str(i) for i in range(1, 60)]):
        response = _reply(client_for(team["sato"]), conv, template_files=bad)
        assert response.status_code == 400
    assert _reply(client_for(team["sato"]), conv, templates=["x"]).status_code == 400


def test_a_new_conversation_counts_its_template(team, made):
    client = client_for(team["sato"])
    response = client.post(
        f"/m/{team['support'].pk}/compose",
        {
            "to": "yamada@example.com",
            "subject": "ご案内",
            "text": "山田 様\nご案内します。",
            "templates": [str(made["shared"].pk)],
        },
    )
    assert response.status_code == 302
    started = Conversation.objects.get(subject="ご案内")
    assert Template.objects.get(pk=made["shared"].pk).use_count == 1
    assert Event.objects.filter(type=EventType.TEMPLATE_USED, conversation=started).count() == 1


# --- remind me if no answer ---------------------------------------------------------------


def test_remind_me_if_no_answer_in_n_business_days(team, conv):
    before = timezone.now()
    response = _reply(client_for(team["sato"]), conv, follow_up_days="2")
    assert response.status_code == 302
    conv.refresh_from_db()
    sent = conv.messages.filter(direction="out").get()
    calendar = calendar_for(conv.mailbox)
    earliest, latest = calendar.add_days(before, 2), calendar.add_days(timezone.now(), 2)
    assert isinstance(conv.follow_up_at, datetime)
    assert earliest <= conv.follow_up_at <= latest
    assert conv.follow_up_at - before >= timedelta(days=2)
    assert conv.follow_up_by_id == team["sato"].user_id
    event = Event.objects.get(type=EventType.FOLLOW_UP_SET, conversation=conv)
    assert event.data["message"] == sent.pk and event.data["to"] == team["sato"].user_id


def test_no_reminder_when_left_blank(team, conv):
    assert _reply(client_for(team["sato"]), conv, follow_up_days="").status_code == 302
    conv.refresh_from_db()
    assert conv.follow_up_at is None


@pytest.mark.parametrize("days", ["0", "61", "abc", "1.5", "١"])
def test_a_wrong_number_of_days_is_refused_beside_the_field(team, conv, days):
    response = _reply(client_for(team["sato"]), conv, follow_up_days=days)
    assert response.status_code == 400
    assert 'class="field follow-up-field invalid"' in response.content.decode()
    assert not conv.messages.filter(direction="out").exists()


def test_the_reply_form_offers_the_picker_and_the_reminder(team, conv):
    page = (
        client_for(team["sato"]).get(f"/c/{conv.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert f'data-search="/c/{conv.pk}/templates.json"' in page
    assert f'data-render="/c/{conv.pk}/templates/0.json"' in page
    assert "Ctrl+Shift+Space" in page and 'name="follow_up_days"' in page
    compose = client_for(team["sato"]).get(f"/m/{team['support'].pk}/compose").content.decode()
    assert f'data-search="/m/{team["support"].pk}/templates.json"' in compose
    assert 'name="follow_up_days"' not in compose
