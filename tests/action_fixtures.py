"""The people and the conversation of the domain action tests (tests/conversations,
tests/mail_out), star-imported by their conftest files.

The actions take users and user ids, so these fixtures are ``User`` objects (the pages'
cast in tests/fixtures.py, ``team``, holds ``Agent`` objects). Everything lives in the
``mailbox`` fixture, which a test module may override with its own settings (an SMTP
server, an undo window).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from madoguchi.accounts.models import Role
from madoguchi.conversations.models import Conversation
from madoguchi.mailboxes.models import Mailbox
from tests.factories import make_agent, make_conversation, make_mailbox

__all__ = ["boss", "conv", "kato", "sato", "suzuki"]


@pytest.fixture
def sato(mailbox: Mailbox) -> User:
    return make_agent("sato", mailboxes=[mailbox]).user


@pytest.fixture
def suzuki(mailbox: Mailbox) -> User:
    return make_agent("suzuki", mailboxes=[mailbox]).user


@pytest.fixture
def kato(db: None) -> User:
    """An agent of another mailbox: never told of this one."""
    return make_agent("kato", mailboxes=[make_mailbox("sales@example.jp", name="営業")]).user


@pytest.fixture
def boss(mailbox: Mailbox) -> User:
    """The mailbox's manager: the one reviewer (there is no admin)."""
    return make_agent("boss", role=Role.MANAGER, mailboxes=[mailbox]).user


@pytest.fixture
def conv(mailbox: Mailbox) -> Conversation:
    """The customer's mail that started a conversation (Message-ID c1@tokyo-shoji.example)."""
    return make_conversation(mailbox, message_id="c1@tokyo-shoji.example")
