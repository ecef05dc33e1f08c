"""Undo and withdraw: only the reply's author, a manager of the mailbox or an admin may
take a reply back; the others neither see the button nor get through by posting."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import client_for, make_agent, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    update_mailbox(team["support"], undo_seconds=600)
    return make_conversation(team["support"], subject="返品の件",
                             message_id="tb1@tokyo-shoji.example")  # fmt: skip


def _reply(team, conv):
    data = {"to": "tanaka@tokyo-shoji.example", "text": "返品を承ります。", "then": "send"}
    assert client_for(team["sato"]).post(f"/c/{conv.pk}/reply", data).status_code == 302
    return conv.messages.get(direction="out")


def test_another_member_cannot_undo_a_reply(conv, team, suzuki):
    message = _reply(team, conv)
    other = client_for(suzuki)
    page = other.get(f"/c/{conv.pk}/?sent={message.pk}").content.decode()
    assert f"/m/{message.pk}/undo" not in page  # no button for someone else's reply
    assert other.post(f"/c/{conv.pk}/m/{message.pk}/undo").status_code == 403
    assert Outbox.objects.get(message=message).status == "queued"
    mine = client_for(team["sato"]).get(f"/c/{conv.pk}/?sent={message.pk}").content.decode()
    assert f"/m/{message.pk}/undo" in mine


def test_another_member_cannot_withdraw_a_reply_that_waits(conv, team, suzuki):
    update_mailbox(team["support"], replies_need_approval=True)
    message = _reply(team, conv)
    assert Outbox.objects.get(message=message).status == "approval"
    assert client_for(suzuki).post(f"/c/{conv.pk}/m/{message.pk}/undo").status_code == 403
    assert Outbox.objects.get(message=message).status == "approval"


def test_a_manager_of_the_mailbox_may_take_a_reply_back(conv, team):
    boss = make_agent("boss", role=Role.MANAGER, mailboxes=[team["support"]])
    message = _reply(team, conv)
    assert client_for(boss).post(f"/c/{conv.pk}/m/{message.pk}/undo").status_code == 302
    assert Outbox.objects.get(message=message).status == "cancelled"
