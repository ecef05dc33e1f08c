"""SMTP and LMTP intake over real sockets (smtplib as the peer)."""

from __future__ import annotations

import smtplib
import socket

import pytest

from madoguchi.mail_in.listeners import IntakeController
from madoguchi.mail_in.models import RawMessage
from madoguchi.mailboxes.actions import create_mailbox
from tests.mailmaker import lmtp_send, make_mail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def shared(transactional_db):
    return create_mailbox("support@example.jp", max_message_bytes=200_000)


@pytest.fixture(params=["smtp", "lmtp"])
def server(request, shared):
    ctl = IntakeController(request.param, host="127.0.0.1", port=free_port(), max_bytes=1_000_000)
    ctl.start()
    yield ctl
    ctl.stop()


def send(server: IntakeController, data: bytes, rcpts: list[str]) -> list[tuple[int, bytes]]:
    """Replies per recipient (LMTP) or the one reply (SMTP) for a delivery."""
    if server.source == "lmtp":
        return lmtp_send(server.hostname, server.port, "a@customer.example", rcpts, data)
    with smtplib.SMTP(server.hostname, server.port) as peer:
        try:
            peer.sendmail("a@customer.example", rcpts, data)
        except smtplib.SMTPRecipientsRefused as exc:
            return [(code, msg) for code, msg in exc.recipients.values()]
        except smtplib.SMTPResponseException as exc:
            return [(exc.smtp_code, exc.smtp_error)]
    return [(250, b"ok")]


def test_unknown_recipient_gets_550(server):
    """RCPT for an address that is no mailbox is refused permanently."""
    [(code, reply)] = send(server, make_mail(), ["nobody@example.jp"])
    assert code == 550
    assert b"no such mailbox" in reply


def test_mail_is_stored_before_250(server, shared):
    """The 250 reply comes after the raw bytes are in the database, byte for byte."""
    data = make_mail()
    [(code, _)] = send(server, data, ["support@example.jp"])
    assert code == 250
    raw = RawMessage.objects.get(mailbox=shared)
    assert bytes(raw.data) == data
    assert raw.source == server.source


def test_too_large_for_the_mailbox_gets_552(server):
    """A mail above the mailbox's limit is refused with 552 and nothing is stored."""
    data = make_mail(body=("x" * 70 + "\n") * 4000)
    [(code, _)] = send(server, data, ["support@example.jp"])
    assert code == 552
    assert RawMessage.objects.count() == 0


def test_too_large_for_the_server_gets_552(shared):
    """Mail above the server's data limit is refused by the protocol layer with 552."""
    ctl = IntakeController("smtp", host="127.0.0.1", port=free_port(), max_bytes=10_000)
    ctl.start()
    try:
        with (
            smtplib.SMTP(ctl.hostname, ctl.port) as peer,
            pytest.raises(smtplib.SMTPException) as err,
        ):
            peer.sendmail(
                "a@c.example", ["support@example.jp"], make_mail(body=("y" * 70 + "\n") * 400)
            )
    finally:
        ctl.stop()
    assert "552" in str(err.value)


def test_storage_failure_gets_451(server, monkeypatch):
    """When the bytes cannot be committed the peer is told to try again later."""
    from madoguchi.mail_in import actions

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(actions, "accept", broken)
    [(code, _)] = send(server, make_mail(), ["support@example.jp"])
    assert code == 451


def test_lmtp_answers_per_recipient(transactional_db):
    """LMTP: one mail to two known and one unknown mailbox is stored twice, refused once."""
    create_mailbox("sales@example.jp")
    create_mailbox("info@example.jp")
    ctl = IntakeController("lmtp", host="127.0.0.1", port=free_port(), max_bytes=1_000_000)
    ctl.start()
    try:
        replies = lmtp_send(
            ctl.hostname,
            ctl.port,
            "a@c.example",
            ["sales@example.jp", "nobody@example.jp", "info@example.jp"],
            make_mail(),
        )
    finally:
        ctl.stop()
    assert sorted(code for code, _ in replies) == [250, 250, 550]
    assert RawMessage.objects.count() == 2
