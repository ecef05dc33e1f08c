"""'Test connection' says exactly what failed, against real servers."""

from __future__ import annotations

import socket

import pytest
from django.utils import translation

from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import Mailbox
from madoguchi.web.connection_check import check_imap, check_smtp
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


# --- every failure of the first hour, explained with what to do next ------------------


def _imap(dovecot, **fields):
    settings = {"imap_host": dovecot.host, "imap_port": dovecot.port, "imap_user": dovecot.user,
                "imap_password": dovecot.password, "imap_security": "none", **fields}  # fmt: skip
    return create_mailbox("a@example.jp", **settings)


def _english(check, mailbox, **kwargs):
    with translation.override("en"):
        return check(mailbox, **kwargs)


def test_imap_refused_login_says_to_check_the_password(dovecot):
    result = _english(check_imap, _imap(dovecot, imap_password="wrong"))
    assert not result.ok
    assert "refused the login" in result.message and "app password" in result.message


def test_imap_missing_folder_is_named(dovecot):
    result = _english(check_imap, _imap(dovecot, imap_folder="Kunden"))
    assert not result.ok and "no folder Kunden" in result.message


def test_tls_on_a_plain_port_says_the_security_setting_does_not_match(dovecot):
    result = _english(check_imap, _imap(dovecot, imap_security="ssl"))
    assert not result.ok and "TLS handshake" in result.message
    assert "security setting" in result.message and "993" in result.message


def test_starttls_not_offered_is_said(dovecot, smtp_capture):
    result = _english(check_imap, _imap(dovecot, imap_security="starttls"))
    assert not result.ok and "does not offer STARTTLS" in result.message
    ctl, _ = smtp_capture
    mailbox = Mailbox(smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="starttls")
    result = _english(check_smtp, mailbox)
    assert not result.ok and "does not offer STARTTLS" in result.message


def test_smtp_without_auth_says_to_leave_the_user_empty(smtp_capture):
    ctl, _ = smtp_capture
    mailbox = Mailbox(smtp_host="127.0.0.1", smtp_port=ctl.port, smtp_security="none",
                      smtp_user="info", smtp_password="pw")  # fmt: skip
    result = _english(check_smtp, mailbox)
    assert not result.ok and "does not take a login" in result.message


def test_smtp_on_an_imap_port_says_it_is_no_smtp_server(dovecot):
    mailbox = Mailbox(smtp_host=dovecot.host, smtp_port=dovecot.port, smtp_security="none")
    result = _english(check_smtp, mailbox)
    assert not result.ok and "did not answer as an SMTP server would" in result.message


def test_unknown_host_is_a_dns_failure():
    mailbox = Mailbox(imap_host="imap.madoguchi.invalid", imap_user="x", imap_security="none")
    result = _english(check_imap, mailbox)
    assert not result.ok and "(DNS)" in result.message


def test_a_server_that_never_answers_is_a_timeout():
    """A port that accepts the connection but never greets."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        mailbox = Mailbox(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                          imap_host="127.0.0.1", imap_port=port, imap_user="x",
                          imap_security="none")  # fmt: skip
        for check in (check_imap, check_smtp):
            result = _english(check, mailbox, timeout=1)
            assert not result.ok and "did not answer within 1 seconds" in result.message
