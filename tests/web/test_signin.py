"""Sign-in protection over HTTP: lockout per account and per address, the message, unlock."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client

from madoguchi.accounts.actions import create_agent
from madoguchi.accounts.models import AuditAction, AuditEntry, Role
from tests.factories import client_for

pytestmark = pytest.mark.django_db

RIGHT = "pw-sato-123"


def _sign_in(username: str, password: str, ip: str = "10.0.0.1", client: Client | None = None):
    client = client or Client()
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="ja",
    )  # fmt: skip


def _fail(times: int, username: str = "sato", ip: str = "10.0.0.1") -> int:
    """Sign in with a wrong password ``times`` times; the last response's status."""
    statuses = [_sign_in(username, "wrong-password", ip).status_code for _ in range(times)]
    assert set(statuses) <= {400, 429}
    return statuses[-1]


@pytest.mark.template_context  # reads response.context
def test_right_password_signs_in_and_wrong_one_says_so(team):
    ok = _sign_in("sato", RIGHT)
    assert ok.status_code == 302 and ok["Location"] == "/"
    bad = _sign_in("sato", "nope")
    assert bad.status_code == 400
    assert bad.context["form"].non_field_errors()


def test_five_wrong_passwords_lock_the_account_even_from_other_addresses(team):
    """Per account: the failures came from five addresses; the right password from a sixth
    is refused with the lockout page (429), not a bare 403."""
    assert [_fail(1, ip=f"10.0.1.{n}") for n in range(5)] == [400, 400, 400, 400, 429]
    locked = _sign_in("sato", RIGHT, ip="10.0.9.9")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "ロック" in page or "locked" in page.lower()
    assert "管理者" in page or "admin" in page.lower()


def test_lockout_message_in_english(team):
    _fail(5)
    page = Client().post(
        "/login/", {"username": "sato", "password": RIGHT}, REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()  # fmt: skip
    assert "Sign-in is locked for now" in page
    assert "ask an admin of your team to unlock it" in page


def test_five_failures_from_one_address_lock_that_address_for_every_account(team):
    """Per address: guessing five different accounts from one address locks the address."""
    for name in ["a1", "a2", "a3", "a4", "a5"]:
        _fail(1, username=name, ip="192.0.2.7")
    assert _sign_in("kato", "pw-kato-123", ip="192.0.2.7").status_code == 429
    # another address is not affected
    assert _sign_in("kato", "pw-kato-123", ip="192.0.2.8").status_code == 302


def test_four_failures_do_not_lock_and_success_forgives_them(team):
    _fail(4)
    assert _sign_in("sato", RIGHT).status_code == 302
    _fail(4)
    assert _sign_in("sato", RIGHT).status_code == 302


def test_an_insider_signing_in_does_not_wipe_failures_against_others(team):
    """kato guesses sato's password from his desk and signs in as himself in between:
    sato's failures from that address still count."""
    _fail(3, username="sato", ip="10.0.0.5")
    assert _sign_in("kato", "pw-kato-123", ip="10.0.0.5").status_code == 302
    _fail(2, username="sato", ip="10.0.0.5")
    assert _sign_in("sato", RIGHT, ip="10.0.3.3").status_code == 429


def test_locked_attempts_are_not_checked_and_leave_no_row_per_attempt(team):
    _fail(5)
    rows = AccessAttempt.objects.count()
    failures = AuditEntry.objects.filter(action=AuditAction.SIGNIN_FAILED).count()
    for _ in range(3):
        assert _sign_in("sato", "guess").status_code == 429
    assert AccessAttempt.objects.count() == rows
    assert AuditEntry.objects.filter(action=AuditAction.SIGNIN_FAILED).count() == failures


def test_lockout_uses_remote_addr_not_forwarded_headers(team):
    """A client cannot dodge the address lock by sending X-Forwarded-For."""
    for n in range(5):
        Client().post("/login/", {"username": f"x{n}", "password": "x"}, REMOTE_ADDR="198.51.100.1",
                      HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")  # fmt: skip
    response = Client().post(
        "/login/", {"username": "sato", "password": RIGHT}, REMOTE_ADDR="198.51.100.1",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )  # fmt: skip
    assert response.status_code == 429


def test_admin_sees_locks_and_unlocks_an_account(team):
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    admin = Client()
    assert _sign_in("boss", "pw-boss-1234", ip="10.9.9.9", client=admin).status_code == 302
    _fail(5)
    page = admin.get("/admin/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Unlock" in page
    assert "<strong>sato</strong>" in page and "<strong>10.0.0.1</strong>" in page
    response = admin.post("/admin/team/unlock", {"kind": "username", "value": "sato"},
                          REMOTE_ADDR="10.9.9.9")  # fmt: skip
    assert response.status_code == 302
    assert _sign_in("sato", RIGHT).status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.UNLOCKED)
    assert entry.actor_name == "boss" and entry.target == "sato" and entry.ip == "10.9.9.9"


def test_admin_unlocks_an_address(team):
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    admin = client_for(User.objects.get(username="boss"))
    for name in ["a1", "a2", "a3", "a4", "a5"]:
        _fail(1, username=name, ip="192.0.2.7")
    unlock = {"kind": "ip_address", "value": "192.0.2.7"}
    assert admin.post("/admin/team/unlock", unlock).status_code == 302
    assert _sign_in("kato", "pw-kato-123", ip="192.0.2.7").status_code == 302


def test_only_admins_unlock_and_bad_input_is_400(team):
    _fail(5)
    agent = client_for(team["kato"])
    unlock = {"kind": "username", "value": "sato"}
    assert agent.post("/admin/team/unlock", unlock).status_code == 403
    create_agent("boss", password="pw-boss-1234", role=Role.ADMIN)
    admin = client_for(User.objects.get(username="boss"))
    bad = {"kind": "everything", "value": "x"}
    assert admin.post("/admin/team/unlock", bad).status_code == 400
    assert admin.get("/admin/team/unlock").status_code == 405
    assert _sign_in("sato", RIGHT, ip="10.0.0.2").status_code == 429


def test_failed_and_successful_sign_ins_and_lockouts_are_audited(team):
    _fail(4)
    _sign_in("sato", RIGHT)
    _fail(5, username="kato", ip="10.0.0.9")
    rows = list(AuditEntry.objects.order_by("id").values_list("action", "target", "ip"))
    assert rows.count((AuditAction.SIGNIN_FAILED.value, "sato", "10.0.0.1")) == 4
    assert (AuditAction.SIGNED_IN.value, "sato", "10.0.0.1") in rows
    assert (AuditAction.LOCKED.value, "kato", "10.0.0.9") in rows
    # no password in any audit entry or axes row
    assert "wrong-password" not in str(list(AuditEntry.objects.values()))
    assert "wrong-password" not in str(list(AccessAttempt.objects.values()))


def test_test_client_login_still_works_without_a_request(team):
    """Django's test client authenticates without a request; the lockout backend lets the
    password backend decide (every app sign-in path passes the request)."""
    assert Client().login(username="sato", password=RIGHT)
    assert not Client().login(username="sato", password="wrong")


def test_sign_in_page_links_to_password_reset(team):
    page = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/password/forgot/"' in page and "Forgot your password?" in page
