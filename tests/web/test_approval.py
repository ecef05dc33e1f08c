"""Approval: replies that wait for a manager, who approves, edits, or sends them back."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from madoguchi.accounts.models import Role
from madoguchi.core.models import Event
from madoguchi.mail import parse
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out.models import Draft, Outbox
from madoguchi.mailboxes.actions import update_mailbox
from madoguchi.notifications.models import Notification
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    return make_conversation(team["support"], subject="返品の件",
                             message_id="ap1@tokyo-shoji.example")  # fmt: skip


@pytest.fixture
def boss(team):
    return make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])


def _reply(client: Client, conv, text: str = "返品を承ります。", then: str = "send"):
    data = {"to": "tanaka@tokyo-shoji.example", "text": text, "then": then}
    return client.post(f"/c/{conv.pk}/reply", data, HTTP_ACCEPT_LANGUAGE="en")


def _approve(client: Client, message, text: str):
    """Approve as the review page does: with the digest of the mail it showed."""
    shown = outbox.digest_of(Outbox.objects.get(message=message))
    data = {"decision": "approve", "text": text, "shown": shown}
    return client.post(f"/approvals/{message.pk}", data, HTTP_ACCEPT_LANGUAGE="en")


def _held(team, conv):
    update_mailbox(team["support"], replies_need_approval=True, signature="サポート窓口")
    response = _reply(client_for(team["sato"]), conv, then="done")
    assert response.status_code == 302
    return conv.messages.get(direction="out")


def test_an_agents_reply_waits_and_the_managers_are_asked(conv, team, boss):
    message = _held(team, conv)
    assert message.outbox.status == "approval"
    conv.refresh_from_db()
    assert conv.waiting_since is not None and conv.status == "open"  # not answered yet
    assert Event.objects.filter(type="approval.requested", conversation=conv).exists()
    asked = Notification.objects.filter(kind="asked").values_list("user_id", flat=True)
    assert list(asked) == [boss.user.pk]
    page = client_for(boss).get("/approvals/").content.decode()
    assert "返品を承ります。" in page and "佐藤 花子" in page


def test_approving_sends_it_as_written_and_tells_the_author(conv, team, boss, smtp_capture):
    ctl, handler = smtp_capture
    message = _held(team, conv)
    update_mailbox(team["support"], smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    response = _approve(client_for(boss), message, message.text)
    assert response.status_code == 302
    box = Outbox.objects.get(message=message)
    assert box.status == "queued" and box.reviewed_by_id == boss.user.pk
    assert outbox.deliver(box.pk) == "sent"
    mail = parse(handler.received[0].data)
    assert mail.sender.name == "佐藤 花子 (サポート窓口)" and "返品を承ります。" in mail.text
    conv.refresh_from_db()
    assert conv.status == "done" and conv.waiting_since is None  # "send and mark done"
    assert Notification.objects.filter(user=team["sato"].user, kind="approved").exists()
    again = _approve(client_for(boss), message, "x")
    assert again.status_code == 302 and Outbox.objects.get(pk=box.pk).status == "sent"


def test_edit_then_approve_sends_the_edited_text(conv, team, boss):
    message = _held(team, conv)
    _approve(client_for(boss), message, "返品を承ります。送料は弊社負担です。")
    box = Outbox.objects.get(message=message)
    mail = parse(bytes(box.data))
    assert "送料は弊社負担です" in mail.text
    assert mail.message_id == message.message_id and mail.in_reply_to == "ap1@tokyo-shoji.example"
    assert Event.objects.get(type="approval.approved").data["edited"] is True


def test_sending_back_needs_a_comment_and_returns_the_text_to_the_author(conv, team, boss):
    message = _held(team, conv)
    refused = client_for(boss).post(f"/approvals/{message.pk}", {"decision": "return", "text": "x",
                                                               "comment": " "},
                                  HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert refused.status_code == 400 and "Say what to change" in refused.content.decode()
    back = {"decision": "return", "text": message.text, "comment": "送料に触れてください"}
    client_for(boss).post(f"/approvals/{message.pk}", back)
    assert Outbox.objects.get(message=message).status == "returned"
    assert conv.notes.get().text == "送料に触れてください"
    draft = Draft.objects.get(conversation=conv, author=team["sato"].user)
    assert draft.text == "返品を承ります。"  # without the signature, which is added again
    assert Notification.objects.filter(user=team["sato"].user, kind="returned").exists()


def test_only_reviewers_of_the_mailbox_may_review(conv, team, boss):
    message = _held(team, conv)
    assert client_for(team["sato"]).get("/approvals/").status_code == 403
    other = make_agent("other", role=Role.MANAGER, mailboxes=[team["sales"]])
    assert "返品を承ります" not in client_for(other).get("/approvals/").content.decode()
    response = _approve(client_for(other), message, "x")
    assert response.status_code == 404
    assert Outbox.objects.get(message=message).status == "approval"


def test_the_author_may_withdraw_a_reply_that_waits(conv, team, boss):
    message = _held(team, conv)
    page = client_for(team["sato"]).get(f"/c/{conv.pk}/").content.decode()
    assert "取り下げる" in page
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/m/{message.pk}/undo")
    assert response.status_code == 302
    assert Outbox.objects.get(message=message).status == "cancelled"
    assert "返品を承ります" not in client_for(boss).get("/approvals/").content.decode()


@pytest.mark.template_context  # reads response.context
def test_the_review_shows_exactly_what_leaves_beside_the_mail_it_answers(conv, team, boss):
    """From, To, Cc, Bcc (none), subject, files, the text, the HTML with each link's real
    address, read back from the stored bytes; and the customer's mail it answers."""
    update_mailbox(team["support"], replies_need_approval=True)
    html = '<p>ご確認ください: <a href="https://evil.example/login">https://bank.example/</a></p>'
    upload = SimpleUploadedFile("返品票.pdf", b"%PDF-1.4", "application/pdf")
    data = {"to": "田中 一郎 <tanaka@tokyo-shoji.example>", "cc": "suzuki@tokyo-shoji.example",
            "text": "x", "html": html, "then": "send", "attachments": upload}  # fmt: skip
    assert client_for(team["sato"]).post(f"/c/{conv.pk}/reply", data).status_code == 302
    response = client_for(boss).get("/approvals/", HTTP_ACCEPT_LANGUAGE="en")
    [item] = response.context["items"]
    assert [str(a) for a in item.mail.to] == ["田中 一郎 <tanaka@tokyo-shoji.example>"]
    assert [a.email for a in item.mail.cc] == ["suzuki@tokyo-shoji.example"] and item.bcc == []
    assert item.mail.sender.name == "佐藤 花子 (サポート窓口)"
    assert [a.filename for a in item.mail.attachments] == ["返品票.pdf"]
    assert "[https://evil.example/login]" in item.frame  # the target, beside the bank's name
    assert item.answers.message_id == "ap1@tokyo-shoji.example"
    page = response.content.decode()
    for shown in (
        "suzuki@tokyo-shoji.example",
        "Re: 返品の件",
        "返品票.pdf",
        "Bcc",
        "The customer's mail it answers",
        "sandbox",
        "evil.example/login",
    ):
        assert shown in page, shown


def test_a_reply_that_changed_after_the_page_was_shown_is_not_approved(conv, team, boss):
    """The approval names the bytes shown; other bytes are refused with a clear message
    (409) and nothing is scheduled."""
    message = _held(team, conv)
    shown = outbox.digest_of(Outbox.objects.get(message=message))
    # what a later edit of the waiting reply would do: other bytes under the same reply
    Outbox.objects.filter(message=message).update(data=b"Subject: changed\r\n\r\nother\r\n")
    response = client_for(boss).post(f"/approvals/{message.pk}",
                                   {"decision": "approve", "text": message.text, "shown": shown},
                                   HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 409
    assert "changed after the page was shown" in response.content.decode()
    assert Outbox.objects.get(message=message).status == "approval"
    assert not Event.objects.filter(type="approval.approved").exists()


def test_approving_without_having_been_shown_the_mail_is_refused(conv, team, boss):
    message = _held(team, conv)
    response = client_for(boss).post(f"/approvals/{message.pk}",
                                   {"decision": "approve", "text": message.text},
                                   HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400 and "before approving" in response.content.decode()
    assert Outbox.objects.get(message=message).status == "approval"
