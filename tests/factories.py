"""Small builders for test data, made through the real actions and the real intake.

Every test that needs an agent, a mailbox or a customer's conversation makes it here, so a
change to how agents or conversations come about is made once. A conversation is made by
delivering a mail through intake (``tests.mail_in.helpers.deliver``), never by writing rows.

``client_for(agent)`` is the one way a test gets a signed-in ``django.test.Client``; tests of
signing in itself (tests/web/test_signin.py, test_twofactor.py, test_passwords.py) sign in
through the pages instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Agent, Role, TotpDevice
from madoguchi.conversations.models import Conversation
from madoguchi.mail import Address
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail

#: The customer who writes in most tests.
CUSTOMER = Address("田中 一郎", "tanaka@tokyo-shoji.example")

#: The display names of the agents the tests know by user name.
NAMES = {
    "sato": "佐藤 花子",
    "suzuki": "鈴木 一郎",
    "kato": "加藤 次郎",
    "boss": "山本 部長",
}


def password_of(username: str) -> str:
    """The password ``make_agent`` gives when none is named (the browser tests sign in with it)."""
    return f"pw-{username}-123"


def make_mailbox(
    address: str = "support@example.jp", name: str = "サポート窓口", **settings: Any
) -> Mailbox:
    return create_mailbox(address, name=name, **settings)


def make_agent(
    username: str,
    *,
    role: Role = Role.AGENT,
    mailboxes: Iterable[Mailbox] = (),
    password: str | None = None,
    display_name: str | None = None,
    **fields: Any,
) -> Agent:
    """An agent (with its user), a member of ``mailboxes``; named from ``NAMES`` unless told."""
    agent = create_agent(
        username,
        password=password or password_of(username),
        role=role,
        display_name=NAMES.get(username, "") if display_name is None else display_name,
        **fields,
    )
    for mailbox in mailboxes:
        add_member(mailbox, agent.user)
    return agent


def make_conversation(
    mailbox: Mailbox,
    *,
    subject: str = "請求書の件",
    sender: str = str(CUSTOMER),
    body: str = "請求書を再発行してください。\n",
    message_id: str | None = None,
    **mail: Any,
) -> Conversation:
    """A conversation the customer started by mailing ``mailbox`` (through intake)."""
    data = make_mail(subject=subject, sender=sender, body=body, message_id=message_id,
                     **{"to": mailbox.address, **mail})  # fmt: skip
    message = deliver(mailbox, data)
    assert message is not None, "the mail was not ingested"
    return Conversation.objects.get(pk=message.conversation_id)


def client_for(who: Agent | User, **client_args: Any) -> Client:
    """A test client signed in as ``who``, second step included when they have one.

    ``force_login`` skips the password; an agent with an authenticator app also needs the
    mark django-otp's ``login`` leaves in the session, or the two-step middleware signs
    the session out again.
    """
    user = who.user if isinstance(who, Agent) else who
    client = Client(**client_args)
    client.force_login(user)
    device = TotpDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
