"""Undo and withdraw: only the reply's author, a manager of the mailbox or an admin may
take a reply back; the others neither see the button nor get through by posting."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Role
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes.actions import update_mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(team):
    update_mailbox(team["support"], undo_seconds=600)
    mail = make_mail(sender="田中 一郎 <tanaka@tokyo-shoji.example>", subject="返品の件",
                     message_id="tb1@tokyo-shoji.example")  # fmt: skip
    return deliver(team["support"], mail).conversation


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reply(team, conv):
    data = {"to": "tanaka@tokyo-shoji.example", "text": "返品を承ります。", "then": "send"}
    assert _as(team["sato"].user).post(f"/c/{conv.pk}/reply", data).status_code == 302
    return conv.messages.get(direction="out")


def test_another_member_cannot_undo_a_reply(conv, team, suzuki):
    message = _reply(team, conv)
    other = _as(suzuki.user)
    page = other.get(f"/c/{conv.pk}/?sent={message.pk}").content.decode()
    assert f"/m/{message.pk}/undo" not in page  # no button for someone else's reply
    assert other.post(f"/c/{conv.pk}/m/{message.pk}/undo").status_code == 403
    assert Outbox.objects.get(message=message).status == "queued"
    mine = _as(team["sato"].user).get(f"/c/{conv.pk}/?sent={message.pk}").content.decode()
    assert f"/m/{message.pk}/undo" in mine


def test_another_member_cannot_withdraw_a_reply_that_waits(conv, team, suzuki):
    update_mailbox(team["support"], replies_need_approval=True)
    message = _reply(team, conv)
    assert Outbox.objects.get(message=message).status == "approval"
    assert _as(suzuki.user).post(f"/c/{conv.pk}/m/{message.pk}/undo").status_code == 403
    assert Outbox.objects.get(message=message).status == "approval"


def test_a_manager_of_the_mailbox_may_take_a_reply_back(conv, team):
    boss = create_agent("boss", password="pw-boss-123", role=Role.MANAGER)
    add_member(team["support"], boss.user)
    message = _reply(team, conv)
    assert _as(boss.user).post(f"/c/{conv.pk}/m/{message.pk}/undo").status_code == 302
    assert Outbox.objects.get(message=message).status == "cancelled"
