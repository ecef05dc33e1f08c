"""Rich text, attachments, drafts, forwarding and new conversations, through the views and
a real SMTP server."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from madoguchi.conversations.models import Attachment, Conversation, Message
from madoguchi.mail import parse
from madoguchi.mail_out import actions
from madoguchi.mail_out.models import Draft, Outbox
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import client_for, make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    return make_conversation(team["support"], subject="見積もりのお願い",
                             message_id="c1@tokyo-shoji.example")  # fmt: skip


def _sent(conv: Conversation) -> Message:
    return conv.messages.filter(direction="out").latest("pk")


def test_rich_reply_with_an_attachment(conv, team):
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/reply", {
        "to": "tanaka@tokyo-shoji.example", "text": "",
        "html": '<p>お見積もりを<b>添付</b>します。</p><script>x()</script>'
                '<a href="javascript:alert(1)" onclick="y()">a</a>',
        "attachments": [SimpleUploadedFile("見積書.pdf", b"%PDF-1.4", "application/pdf")],
        "then": "send",
    })  # fmt: skip
    assert response.status_code == 302
    message = _sent(conv)
    assert "<b>添付</b>" in message.html and "script" not in message.html
    assert "javascript" not in message.html and "onclick" not in message.html
    assert "お見積もりを添付します。" in message.text
    att = Attachment.objects.get(message=message)
    assert att.filename == "見積書.pdf" and att.size == 8
    mail = parse(bytes(Outbox.objects.get(message=message).data))
    assert "<b>添付</b>" in mail.html and mail.attachments[0].filename == "見積書.pdf"


def test_files_over_the_mailbox_limit_are_refused(conv, team):
    update_mailbox(team["support"], max_message_bytes=1024)
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/reply", {
        "to": "tanaka@tokyo-shoji.example", "text": "添付します",
        "attachments": [SimpleUploadedFile("big.bin", b"x" * 2048)], "then": "send",
    }, HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400
    assert "this mailbox sends at most 0.0 MB" in response.content.decode()
    assert not conv.messages.filter(direction="out").exists()


def test_draft_is_saved_restored_and_gone_after_sending(conv, team):
    client = client_for(team["sato"])
    typed = {"to": "tanaka@tokyo-shoji.example", "cc": "", "text": "書きかけの返信", "html": ""}
    response = client.post(f"/c/{conv.pk}/draft", typed)
    assert response.json()["saved"] is True
    page = client.get(f"/c/{conv.pk}/").content.decode()
    assert "書きかけの返信" in page and "下書きを保存しました" in page
    client.post(f"/c/{conv.pk}/reply", {"to": "tanaka@tokyo-shoji.example",
                                        "text": "書き上げた返信", "then": "send"})  # fmt: skip
    assert not Draft.objects.exists()


def test_emptied_draft_is_discarded(conv, team):
    client = client_for(team["sato"])
    client.post(f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "x", "html": ""})
    client.post(f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "  ", "html": ""})
    assert not Draft.objects.exists()


def test_drafts_are_private_to_their_author(conv, team, suzuki):
    client_for(team["sato"]).post(
        f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "佐藤の下書き", "html": ""}
    )
    assert "佐藤の下書き" not in client_for(suzuki).get(f"/c/{conv.pk}/").content.decode()


def test_non_member_cannot_draft_forward_or_compose(conv, team):
    kato = client_for(team["kato"])
    first = conv.messages.get()
    assert kato.post(f"/c/{conv.pk}/draft", {"text": "x"}).status_code == 404
    assert kato.get(f"/c/{conv.pk}/m/{first.pk}/forward").status_code == 404
    assert kato.get(f"/m/{team['support'].pk}/compose").status_code == 404


def test_forward_keeps_the_thread_and_the_attachments(team, smtp_capture):
    ctl, handler = smtp_capture
    support = update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port,
                             smtp_security="none", undo_seconds=0)  # fmt: skip
    from email.message import EmailMessage

    original = EmailMessage()
    original["From"], original["To"] = "田中 <tanaka@tokyo-shoji.example>", support.address
    original["Subject"], original["Message-ID"] = "図面の件", "<f1@tokyo-shoji.example>"
    original.set_content("図面を添付します。")
    original.add_attachment(b"DWG", maintype="application", subtype="octet-stream",
                            filename="図面.dwg")  # fmt: skip
    source = deliver(support, original.as_bytes())
    response = client_for(team["sato"]).post(f"/c/{source.conversation_id}/m/{source.pk}/forward", {
        "to": "設計部 <design@example.jp>", "text": "確認をお願いします。",
        "with_attachments": "on",
    })  # fmt: skip
    assert response.status_code == 302
    forwarded = _sent(source.conversation)
    assert forwarded.subject == "Fwd: 図面の件"
    assert "確認をお願いします。" in forwarded.text and "図面を添付します。" in forwarded.text
    actions.deliver(Outbox.objects.get(message=forwarded).pk)
    mail = parse(handler.received[-1].data)
    assert [a.filename for a in mail.attachments] == ["図面.dwg"]
    assert handler.received[-1].rcpts == ["design@example.jp"]
    answer = deliver(support, make_mail(sender="design@example.jp", subject="Re: Fwd: 図面の件",
                                        in_reply_to=mail.message_id))  # fmt: skip
    assert answer.conversation_id == source.conversation_id


def test_new_conversation_to_a_customer(team, smtp_capture):
    ctl, handler = smtp_capture
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port,
                   smtp_security="none", undo_seconds=0)  # fmt: skip
    client = client_for(team["sato"])
    response = client.post(f"/m/{team['support'].pk}/compose", {
        "to": "山田 花子 <yamada@example.com>", "subject": "ご注文の発送について",
        "text": "本日発送いたしました。",
    })  # fmt: skip
    assert response.status_code == 302
    conv = Conversation.objects.get(subject="ご注文の発送について")
    assert conv.status == "open" and conv.assignee_id == team["sato"].user_id
    assert conv.contact.name == "山田 花子"
    message = _sent(conv)
    actions.deliver(Outbox.objects.get(message=message).pk)
    mail = parse(handler.received[-1].data)
    assert mail.subject == "ご注文の発送について" and mail.in_reply_to is None
    answer = deliver(team["support"], make_mail(sender="yamada@example.com",
                                                subject="Re: ご注文の発送について",
                                                in_reply_to=mail.message_id))  # fmt: skip
    assert answer.conversation_id == conv.pk


def test_new_conversation_without_subject_or_recipient_explains(team):
    empty = {"to": "", "subject": "", "text": "x"}
    url = f"/m/{team['support'].pk}/compose"
    response = client_for(team["sato"]).post(url, empty, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give at least one recipient." in page and "This field is required." in page
