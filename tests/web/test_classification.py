"""Automated mail: structural classification at intake, putting it right by hand, reclassify."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.conversations.models import Conversation, Message
from madoguchi.core.models import Event
from madoguchi.mailboxes.models import Mailbox
from tests.factories import client_for, make_agent
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db

AUTO = {"Auto-Submitted": "auto-replied"}


def _auto(team, n: int = 1, sender: str = "Bot <bot@vendor.example>") -> Conversation:
    mail = make_mail(subject=f"Re: 注文 {n}", sender=sender, message_id=f"a{n}@vendor.example",
                     headers=AUTO)  # fmt: skip
    return deliver(team["support"], mail).conversation


def test_customer_words_stay_new_with_a_hint(team):
    """「返品の返送先を教えてください」 lands in 新着, with the hint on the row."""
    message = deliver(team["support"], make_mail(subject="配送エラーと表示されます"))
    conv = message.conversation
    assert (conv.kind, conv.kind_hint, conv.status) == ("normal", "bounce", "new")
    page = client_for(team["sato"]).get(f"/m/{team['support'].pk}/new/").content.decode()
    assert "配送エラーと表示されます" in page and "自動送信の可能性" in page


def test_automated_mail_shows_its_evidence(team):
    conv = _auto(team)
    assert conv.kind == "auto_reply"
    assert Message.objects.get(conversation=conv).kind_reason == "Auto-Submitted: auto-replied"
    page = client_for(team["sato"]).get(f"/c/{conv.pk}/").content.decode()
    assert "根拠: Auto-Submitted: auto-replied" in page and "これは自動送信ではない" in page


def test_not_automated_moves_it_back_to_new_and_logs_it(team):
    conv = _auto(team)
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/person", {"always": ""})
    assert response.status_code == 302
    conv.refresh_from_db()
    assert (conv.kind, conv.status) == ("normal", "new")
    assert conv.waiting_since is not None
    event = Event.objects.get(type="conversation.kind", conversation=conv)
    assert event.data == {"before": "auto_reply", "after": "normal", "reason": "marked"}
    assert event.actor_id == team["sato"].user_id
    assert Mailbox.objects.get(pk=team["support"].pk).person_senders == ""


def test_always_a_person_by_domain_keeps_the_next_mail_in_new(team):
    conv = _auto(team, 1, sender="Bot <bot@vendor.example>")
    client_for(team["sato"]).post(f"/c/{conv.pk}/person", {"always": "domain"})
    assert Mailbox.objects.get(pk=team["support"].pk).person_senders == "@vendor.example"
    assert Event.objects.filter(type="mailbox.person_sender_added",
                                data__entry="@vendor.example").exists()  # fmt: skip
    later = _auto(team, 2, sender="Other <other@vendor.example>")
    assert later.kind == "normal"
    elsewhere = _auto(team, 3, sender="Bot <bot@elsewhere.example>")
    assert elsewhere.kind == "auto_reply"


def test_always_with_a_bad_value_is_refused(team):
    conv = _auto(team)
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/person", {"always": "everyone"})
    assert response.status_code == 302 and "error=always" in response["Location"]
    conv.refresh_from_db()
    assert conv.kind == "auto_reply"


def test_not_automated_on_another_mailbox_is_404(team):
    """kato is not a member of support: the conversation does not exist for him."""
    conv = _auto(team)
    client = client_for(team["kato"])
    assert client.post(f"/c/{conv.pk}/person", {"always": "domain"}).status_code == 404
    conv.refresh_from_db()
    assert conv.kind == "auto_reply"


def _person(team, subject: str, message_id: str) -> Conversation:
    return deliver(team["support"], make_mail(subject=subject, message_id=message_id)).conversation


def _hide(conv: Conversation) -> None:
    """What older versions did: a customer's mail classified by its subject."""
    Message.objects.filter(conversation=conv).update(kind="bounce")
    Conversation.objects.filter(pk=conv.pk).update(kind="bounce")


def test_admin_edits_the_person_list(team):
    client = client_for(make_agent("boss", role=Role.ADMIN, display_name="社長"))
    box = team["support"]
    page = client.get(f"/admin/mailboxes/{box.pk}/")
    assert "常に人として扱う送信者" in page.content.decode()
    form = {
        **_mailbox_form(box),
        "person_senders": "Taro@Example.jp\n@vendor.example\n\nnot an entry",
    }
    response = client.post(f"/admin/mailboxes/{box.pk}/", form)
    assert (
        response.status_code == 400
        or "アドレスでもドメインでもありません" in response.content.decode()
    )
    assert Mailbox.objects.get(pk=box.pk).person_senders == ""
    form["person_senders"] = "Taro@Example.jp\n@vendor.example\n"
    response = client.post(f"/admin/mailboxes/{box.pk}/", form)
    assert response.status_code == 302
    assert Mailbox.objects.get(pk=box.pk).person_sender_list == [
        "taro@example.jp",
        "@vendor.example",
    ]


def _mailbox_form(box: Mailbox) -> dict[str, object]:
    return {
        "address": box.address, "name": box.name, "signature": "",
        "sender_format": "{agent} ({mailbox})",
        "outbound_charset": "utf-8", "undo_seconds": 5, "max_message_mb": 50,
        "assign_on_reply": "on", "imap_security": "ssl", "imap_folder": "INBOX",
        "imap_after_fetch": "leave", "smtp_security": "starttls",
    }  # fmt: skip


def test_the_always_choice_is_in_the_timeline_event(team):
    conv = _auto(team)
    client_for(team["sato"]).post(f"/c/{conv.pk}/person", {"always": "address"})
    event = Event.objects.get(type="conversation.kind", conversation=conv)
    assert event.data["always"] == "bot@vendor.example"
    page = client_for(team["sato"]).get(f"/c/{conv.pk}/").content.decode()
    assert "bot@vendor.example からのメールは常に人として扱います" in page
