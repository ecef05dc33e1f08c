"""'Test connection' says exactly what failed, against real servers."""

from __future__ import annotations

import pytest

from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.connection import check_imap, check_smtp
from tests.servers import free_port

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_imap_check_works_and_names_the_folder(dovecot):
    """Right settings: it says IMAP works and how many messages the folder holds."""
    mailbox = create_mailbox(
        "a@example.jp",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password=dovecot.password,
        imap_security="none",
    )
    result = check_imap(mailbox)
    assert result.ok and "INBOX" in result.message


def test_imap_wrong_password_is_a_refused_login(dovecot):
    """A wrong password is reported as the server refusing the login."""
    mailbox = create_mailbox(
        "a@example.jp",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password="wrong",
        imap_security="none",
    )
    result = check_imap(mailbox)
    assert (
        not result.ok
        and "refused the login" in result.message.lower()
        or "ログイン" in result.message
    )


def test_closed_port_is_a_refused_connection():
    """Nothing listening: the message says the connection was refused, with host and port."""
    port = free_port()
    mailbox = create_mailbox(
        "a@example.jp",
        imap_host="127.0.0.1",
        imap_port=port,
        imap_user="x",
        imap_password="y",
        imap_security="none",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
    )
    for result in (check_imap(mailbox), check_smtp(mailbox)):
        assert not result.ok and f"127.0.0.1:{port}" in result.message


def test_smtp_check_works(smtp_capture):
    """A reachable SMTP server is reported as working."""
    ctl, _ = smtp_capture
    mailbox = create_mailbox(
        "a@example.jp", smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none"
    )
    assert check_smtp(mailbox).ok
