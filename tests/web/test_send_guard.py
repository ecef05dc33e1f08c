"""The send guard: a reply begun on an older state of the conversation is refused."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from madoguchi.accounts.actions import add_member
from madoguchi.conversations import actions
from madoguchi.mail_out import actions as outbox
from madoguchi.mail_out.models import Draft
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import client_for, make_conversation
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail


@pytest.fixture
def conv(team):
    return make_conversation(team["support"], subject="納期の件", message_id="g1@x.example")


def _seen(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(seen_message|seen_note)" value="(\d+)"', page))


def _reply(client: Client, conv, seen: dict[str, str], text: str = "承知しました"):
    data = {"to": "tanaka@tokyo-shoji.example", "text": text, "then": "send", **seen}
    return client.post(f"/c/{conv.pk}/reply", data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.django_db
def test_a_reply_begun_before_new_mail_is_refused_with_what_came(conv, team):
    client = client_for(team["sato"])
    seen = _seen(client.get(f"/c/{conv.pk}/").content.decode())
    assert seen == {"seen_message": str(conv.messages.get().pk), "seen_note": "0"}
    more = make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="Re: 納期の件",
                     body="追加でもう一点お願いします", message_id="g2@tokyo-shoji.example",
                     in_reply_to="g1@x.example")  # fmt: skip
    deliver(team["support"], more)
    response = _reply(client, conv, seen, text="書いていた返信")
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not sent: the conversation changed while you were writing" in page
    assert "New mail from 田中 一郎" in page and "追加でもう一点お願いします" in page
    assert "書いていた返信" in page and "Send anyway" in page
    assert not conv.messages.filter(direction="out").exists()
    assert Draft.objects.get(conversation=conv).text == "書いていた返信"
    again = _reply(client, conv, _seen(page), text="書いていた返信")  # "send anyway"
    assert again.status_code == 302
    assert conv.messages.filter(direction="out").count() == 1


@pytest.mark.django_db
def test_a_colleagues_note_meanwhile_refuses_too(conv, team):
    client = client_for(team["sato"])
    seen = _seen(client.get(f"/c/{conv.pk}/").content.decode())
    kato = team["kato"].user
    add_member(team["support"], kato)
    actions.add_note(conv, author_id=kato.pk, text="この件は値引き不可です")
    response = _reply(client, conv, seen)
    assert response.status_code == 409
    assert "Internal note by 加藤 次郎" in response.content.decode()


@pytest.mark.django_db
def test_a_reply_taken_back_is_no_change(conv, team):
    client = client_for(team["sato"])
    seen = _seen(client.get(f"/c/{conv.pk}/").content.decode())
    first = _reply(client, conv, seen, text="一度目")
    assert first.status_code == 302
    message = conv.messages.filter(direction="out").get()
    assert outbox.cancel(message, actor=team["sato"].user)
    assert _reply(client, conv, seen, text="二度目").status_code == 302


@pytest.mark.django_db
def test_discarding_the_refused_reply_drops_the_draft(conv, team):
    client = client_for(team["sato"])
    client.post(f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "下書き", "html": ""})
    response = client.post(f"/c/{conv.pk}/draft/discard")
    assert response.status_code == 302 and not Draft.objects.exists()


@pytest.mark.django_db
def test_beginning_a_reply_assigns_an_unassigned_conversation(conv, team):
    client_for(team["sato"]).post(
        f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "書き始め", "html": ""}
    )
    conv.refresh_from_db()
    assert conv.assignee_id == team["sato"].user.pk


@pytest.mark.django_db
def test_beginning_a_reply_keeps_someone_elses_assignment_or_the_setting(conv, team):
    kato = team["kato"].user
    actions.assign_conversation(conv, assignee_id=kato.pk, actor_id=kato.pk)
    client_for(team["sato"]).post(
        f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "書き始め", "html": ""}
    )
    conv.refresh_from_db()
    assert conv.assignee_id == kato.pk
    update_mailbox(team["support"], assign_on_reply=False)
    actions.assign_conversation(conv, assignee_id=None, actor_id=kato.pk)
    client_for(team["sato"]).post(
        f"/c/{conv.pk}/draft", {"to": "", "cc": "", "text": "続き", "html": ""}
    )
    conv.refresh_from_db()
    assert conv.assignee_id is None
