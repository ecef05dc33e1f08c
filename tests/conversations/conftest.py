"""A mailbox with two member agents (sato, suzuki), one agent elsewhere (kato), and a
conversation the customer started there."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.conversations.models import Conversation
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

CUSTOMER = "田中 一郎 <tanaka@tokyo-shoji.example>"


def _member(mailbox: Mailbox, username: str, name: str) -> User:
    agent = create_agent(username, password=f"pw-{username}-123", display_name=name)
    add_member(mailbox, agent.user)
    return agent.user


@pytest.fixture
def sato(mailbox: Mailbox) -> User:
    return _member(mailbox, "sato", "佐藤 花子")


@pytest.fixture
def suzuki(mailbox: Mailbox) -> User:
    return _member(mailbox, "suzuki", "鈴木 一郎")


@pytest.fixture
def kato(db: None) -> User:
    """An agent of another mailbox: never told of this one."""
    return _member(create_mailbox("sales@example.jp", name="営業"), "kato", "加藤 次郎")


@pytest.fixture
def conv(mailbox: Mailbox) -> Conversation:
    mail = make_mail(sender=CUSTOMER, subject="請求書の件", body="請求書を再発行してください。\n",
                     message_id="c1@tokyo-shoji.example")  # fmt: skip
    message = deliver(mailbox, mail)
    assert message is not None
    return message.conversation
