"""Mail through a real Postfix relaying to our LMTP listener, then the task worker."""

from __future__ import annotations

import pytest

from madoguchi.cli.run import build_worker
from madoguchi.conversations.models import Message
from madoguchi.mail_in import actions
from madoguchi.mail_in.listeners import IntakeController
from madoguchi.mail_in.models import RawMessage
from madoguchi.mailboxes.actions import create_mailbox
from tests.mailmaker import make_mail
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.usefixtures("transactional_db")


def run_worker() -> None:
    """Run queued tasks to the end with the real django-tasks-db worker."""
    build_worker(batch=True, interval=0).run()


@pytest.fixture
def lmtp():
    ctl = IntakeController("lmtp", host="127.0.0.1", port=free_port(), max_bytes=10_000_000)
    ctl.start()
    yield ctl
    ctl.stop()


def test_postfix_delivers_to_lmtp_and_worker_ingests(lmtp, postfix_factory):
    """Postfix relays to the LMTP listener; the queued task turns it into a conversation."""
    create_mailbox("support@example.jp")
    postfix = postfix_factory(lmtp.hostname, lmtp.port, domains=["example.jp"])
    postfix.send(
        make_mail(subject="請求書の件", message_id="pf1@c.example"),
        "taro@customer.example",
        ["support@example.jp"],
    )
    postfix.wait_empty()
    assert RawMessage.objects.count() == 1
    run_worker()
    message = Message.objects.get()
    assert message.subject == "請求書の件" and message.raw.status == "done"


def test_postfix_retries_after_451(lmtp, postfix_factory, monkeypatch):
    """When storing fails, Postfix keeps the mail (451) and delivers it on the next try."""
    create_mailbox("support@example.jp")
    real_accept = actions.accept
    monkeypatch.setattr(
        actions, "accept", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    )
    postfix = postfix_factory(lmtp.hostname, lmtp.port, domains=["example.jp"])
    postfix.send(make_mail(message_id="pf2@c.example"), "taro@c.example", ["support@example.jp"])
    wait_until(
        lambda: any(
            "4.3.0" in r.get("delay_reason", "") for q in postfix.queue() for r in q["recipients"]
        ),
        "Postfix defers the mail with 4.3.0",
        timeout=30,
    )
    assert RawMessage.objects.count() == 0
    monkeypatch.setattr(actions, "accept", real_accept)
    postfix.flush()
    postfix.wait_empty()
    assert RawMessage.objects.count() == 1


def test_postfix_bounces_unknown_recipient(lmtp, postfix_factory):
    """An address that is no mailbox is refused with 550 and nothing is stored."""
    create_mailbox("support@example.jp")
    postfix = postfix_factory(lmtp.hostname, lmtp.port, domains=["example.jp"])
    postfix.send(make_mail(to="nobody@example.jp"), "taro@c.example", ["nobody@example.jp"])
    postfix.wait_empty()
    assert RawMessage.objects.count() == 0
