"""Why a reply did not leave, against real SMTP peers, and said in the agent's language.

Each failure an office meets in its first hour (no server set, nothing listening, a name
that does not resolve, a server that never answers, a refused login, a refused recipient,
a mail over the size limit) is kept on the outbox row as a reason and shown with what to
do next; the demo mailbox keeps its mail locally instead of failing.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.utils import timezone
from django.utils.translation import override

from madoguchi import demo
from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import Role
from madoguchi.conversations.models import Conversation, Direction
from madoguchi.mail import Address
from madoguchi.mail_out import actions, smtp
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes.actions import update_mailbox
from madoguchi.mailboxes.models import Mailbox
from tests.factories import CUSTOMER, client_for, make_mailbox
from tests.servers import free_port
from tests.smtp_capture import CaptureHandler

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def mailbox(transactional_db: None) -> Mailbox:
    """No outgoing server yet: each test sets the one whose failure it shows."""
    return make_mailbox(undo_seconds=0)


@pytest.fixture
def setup(mailbox, sato, conv):
    return mailbox, sato, conv


def _send(mailbox, sato, conv, **smtp_settings) -> Outbox:
    update_mailbox(mailbox, **smtp_settings)
    message = actions.queue_reply(conv, author=sato, text="お見積もりです。", to=[CUSTOMER])
    Outbox.objects.filter(message=message).update(send_after=timezone.now() - timedelta(1))
    actions.deliver(message.outbox.pk)
    return Outbox.objects.get(message=message)


def _said(box: Outbox, language: str) -> str:
    with override(language):
        problem = box.problem()
        assert problem is not None
        return f"{problem.what} {problem.next}"


def test_no_outgoing_server_is_said_plainly_and_retried(setup):
    box = _send(*setup)
    assert (box.status, box.error_reason) == ("queued", "no_server")
    assert "please run connect() first" not in box.last_error
    assert "No outgoing (SMTP) server is set" in _said(box, "en")
    assert box.problem().settings and box.problem().retrying


def test_a_refused_connection(setup):
    """Nothing listens on the port: refused, tried again later, the port is named."""
    box = _send(*setup, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")
    assert (box.status, box.error_reason, box.attempts) == ("queued", "refused", 1)
    assert "nothing listens on that port" in _said(box, "en")


def test_a_host_name_that_does_not_resolve(setup):
    box = _send(*setup, smtp_host="no-such-host.invalid", smtp_port=587, smtp_security="none")
    assert (box.status, box.error_reason) == ("queued", "dns")


def test_a_server_that_never_answers(setup, monkeypatch):
    """A listener that accepts and says nothing (a firewall, a wrong service): timeout."""
    monkeypatch.setattr(smtp, "TIMEOUT", 1)
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        box = _send(*setup, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    finally:
        silent.close()
    assert (box.status, box.error_reason) == ("queued", "timeout")


def _refuse_all(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(success=False, handled=False)


def test_a_refused_login(setup):
    """A real server (aiosmtpd with AUTH) refuses the password: said as such, retried (an
    admin may fix the password before the next try), nothing delivered."""
    handler = CaptureHandler()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port(),
                     authenticator=_refuse_all, auth_require_tls=False)  # fmt: skip
    ctl.start()
    try:
        box = _send(*setup, smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none",
                    smtp_user="support", smtp_password="wrong")  # fmt: skip
    finally:
        ctl.stop()
    assert (box.status, box.error_reason) == ("queued", "auth") and "535" in box.last_error
    assert "app password" in _said(box, "en")
    assert handler.received == []


def test_a_refused_recipient_at_a_real_postfix(setup, postfix_factory):
    """Postfix refuses to relay to a domain it does not serve (554 5.7.1): failed for good,
    with the address to check."""
    postfix = postfix_factory("127.0.0.1", free_port(), ["example.jp"])
    box = _send(*setup, smtp_host="127.0.0.1", smtp_port=postfix.port, smtp_security="none")
    assert (box.status, box.error_reason) == ("failed", "recipient")
    assert "tanaka@tokyo-shoji.example" in box.last_error and "5.7.1" in box.last_error
    assert "Check the address for typos" in _said(box, "en")
    assert not box.problem().retrying


def test_a_mail_over_the_size_limit(setup):
    handler = CaptureHandler()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port(), data_size_limit=200)
    ctl.start()
    try:
        box = _send(*setup, smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
    finally:
        ctl.stop()
    assert (box.status, box.error_reason) == ("failed", "too_big")
    assert "larger than the server accepts" in _said(box, "en")


def test_the_conversation_shows_the_problem_and_no_undo_banner(setup):
    """Where the reply is shown: what happened and what to do, in the agent's language,
    with the server's answer as detail; no "sending in a few seconds" any more."""
    mailbox, sato, conv = setup
    box = _send(mailbox, sato, conv, smtp_host="127.0.0.1", smtp_port=free_port(),
                smtp_security="none")  # fmt: skip
    client = client_for(sato)
    page = client.get(f"/c/{conv.pk}/?sent={box.message_id}", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "nothing listens on that port" in text and "Attempts so far: 1" in text
    assert "Connection refused" in text  # the detail
    assert "Sending in a few seconds" not in text


def test_the_demo_mailbox_keeps_its_mail_locally(transactional_db):
    """The demo has no outgoing server: a reply is "sent" at once into the local sink,
    marked as such, and readable as the raw mail."""
    mailbox = demo.ensure_demo()
    conv = Conversation.objects.filter(mailbox=mailbox).order_by("pk").first()
    user = create_agent("boss", password="pw-boss-123", role=Role.ADMIN).user
    message = actions.queue_reply(conv, author=user, text="お見積もりです。",
                                  to=[Address("", "tanaka@tokyo-shoji.example")])  # fmt: skip
    Outbox.objects.filter(message=message).update(send_after=timezone.now() - timedelta(1))
    assert actions.deliver(message.outbox.pk) == "kept locally (demo)"
    box = Outbox.objects.get(message=message)
    assert box.status == "sent" and box.kept_locally and box.problem() is None
    client = client_for(user)
    page = client.get(f"/c/{conv.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Demo: not really sent" in page
    raw = client.get(f"/c/{conv.pk}/m/{message.pk}/raw")
    assert raw.status_code == 200 and message.message_id.encode() in raw.content
    assert conv.messages.filter(direction=Direction.OUT).count() == 1


class _RefuseOne(CaptureHandler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_mail_refused_for_some_recipients_is_sent_once_and_says_so(setup):
    """The server took it for one and refused the other: it left (never sent twice), and
    the refused address is shown with what to do."""
    mailbox, sato, conv = setup
    handler = _RefuseOne()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        update_mailbox(mailbox, smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none")
        message = actions.queue_reply(conv, author=sato, text="お見積もりです。", to=[CUSTOMER],
                                      cc=[Address("", "gone@tokyo-shoji.example")])  # fmt: skip
        Outbox.objects.filter(message=message).update(send_after=timezone.now() - timedelta(1))
        assert actions.deliver(message.outbox.pk) == "sent"
    finally:
        ctl.stop()
    box = Outbox.objects.get(message=message)
    assert (box.status, box.error_reason) == ("sent", "recipient")
    assert "gone@tokyo-shoji.example" in box.last_error and box.problem().sent
    assert [r.rcpts for r in handler.received] == [["tanaka@tokyo-shoji.example"]]
