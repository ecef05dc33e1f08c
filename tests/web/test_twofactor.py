"""Two-step sign-in over HTTP: turning it on, signing in with a code or a recovery code,
the team-wide requirement, turning it off, and what is stored."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from madoguchi.accounts import twofactor
from madoguchi.accounts.models import AuditAction, AuditEntry, Role, TotpDevice
from tests.factories import client_for, make_agent

pytestmark = pytest.mark.django_db

PASSWORD = "pw-sato-123"


def code_for(key: bytes, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` 30-second steps later)."""
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def enable(client: Client) -> tuple[TotpDevice, list[str]]:
    """Turn two-step sign-in on through the pages; returns the device and recovery codes."""
    assert client.post("/settings/2fa/start").status_code == 302
    page = client.get("/settings/2fa/confirm", HTTP_ACCEPT_LANGUAGE="en")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.content.decode())
    assert secret, "the secret is shown as text"
    device = TotpDevice.objects.get(confirmed=False)
    assert b32decode(secret.group(1).replace(" ", "")) == device.key
    done = client.post("/settings/2fa/confirm", {"code": code_for(device.key)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.content.decode())
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


@pytest.fixture
def sato(team) -> Client:
    return client_for(team["sato"])


def password_step(username: str = "sato", password: str = PASSWORD, ip: str = "10.0.0.1"):
    client = Client()
    response = client.post(
        "/login/", {"username": username, "password": password, "next": "/settings/"},
        REMOTE_ADDR=ip,
    )  # fmt: skip
    return client, response


def test_turning_on_shows_qr_secret_and_ten_recovery_codes(sato):
    device, codes = enable(sato)
    assert len(codes) == 10 and len(set(codes)) == 10
    entry = AuditEntry.objects.get(action=AuditAction.TWO_FACTOR_ON)
    assert entry.target == "sato"


def test_setup_page_has_a_qr_code_image_and_wrong_code_is_a_form_error(sato):
    sato.post("/settings/2fa/start")
    page = sato.get("/settings/2fa/confirm").content.decode()
    assert 'src="data:image/svg+xml' in page
    device = TotpDevice.objects.get()
    wrong = f"{(int(code_for(device.key)) + 1) % 1000000:06d}"
    response = sato.post("/settings/2fa/confirm", {"code": wrong})
    assert response.status_code == 400
    assert not TotpDevice.objects.filter(confirmed=True).exists()


def test_secret_and_recovery_codes_are_not_stored_in_the_clear(sato):
    device, codes = enable(sato)
    with connection.cursor() as cur:
        cur.execute("SELECT encrypted_key FROM accounts_totpdevice")
        (stored,) = cur.fetchone()
    assert device.key.hex() not in stored
    tokens = set(StaticToken.objects.values_list("token", flat=True))
    assert len(tokens) == 10
    assert not tokens & {c.replace("-", "") for c in codes}
    assert not tokens & set(codes)


def test_sign_in_asks_for_the_code_and_only_then_signs_in(sato):
    device, _codes = enable(sato)
    client, response = password_step()
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/").status_code == 302  # not signed in yet
    done = client.post("/login/code/", {"code": code_for(device.key, 1)})
    assert done.status_code == 302 and done["Location"] == "/settings/"
    assert client.get("/settings/").status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.SIGNED_IN).latest("id")
    assert entry.details == {"second_step": "totp"}


def test_a_code_works_only_once(sato):
    device, _codes = enable(sato)
    used = code_for(device.key)  # the one that confirmed the device
    client, _ = password_step()
    assert client.post("/login/code/", {"code": used}).status_code == 400


def test_wrong_codes_count_as_failed_sign_ins_and_lock(sato):
    device, _codes = enable(sato)
    client, _ = password_step()
    statuses = []
    for n in range(5):
        device.refresh_from_db()
        TotpDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # no waiting
        statuses.append(client.post("/login/code/", {"code": f"00000{n}"}).status_code)
    assert statuses == [400, 400, 400, 400, 429]
    # the right code no longer helps, not even after a new password step
    client, response = password_step()
    assert response.status_code == 429
    failed = AuditEntry.objects.filter(action=AuditAction.SIGNIN_FAILED, details__step="code")
    assert failed.count() == 5


def test_wrong_codes_are_throttled_by_the_device(sato):
    device, _codes = enable(sato)
    client, _ = password_step()
    assert client.post("/login/code/", {"code": "000000"}).status_code == 400
    right = {"code": code_for(device.key, 1)}
    response = client.post("/login/code/", right, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Wait a few seconds" in response.content.decode()


def test_recovery_code_signs_in_once(sato):
    _device, codes = enable(sato)
    client, _ = password_step()
    response = client.post("/login/code/", {"code": codes[3].upper()})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.RECOVERY_USED, details__left=9).exists()
    again, _ = password_step()
    assert again.post("/login/code/", {"code": codes[3]}).status_code == 400
    assert twofactor.recovery_codes_left(User.objects.get(username="sato")) == 9


def test_new_recovery_codes_replace_the_old_ones(sato):
    _device, old = enable(sato)
    page = sato.post("/settings/2fa/recovery").content.decode()
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)
    assert len(new) == 10 and not set(new) & set(old)
    client, _ = password_step()
    assert client.post("/login/code/", {"code": old[0]}).status_code == 400
    StaticDevice.objects.update(throttling_failure_count=0)  # skip django-otp's wait
    assert client.post("/login/code/", {"code": new[0]}).status_code == 302


def test_code_step_without_password_step_goes_back_to_sign_in(team):
    response = Client().post("/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_code_step_expires(sato):
    device, _codes = enable(sato)
    client, _ = password_step()
    session = client.session
    session["signin.pending"]["at"] -= 301
    session.save()
    response = client.post("/login/code/", {"code": code_for(device.key, 1)})
    assert response.status_code == 302 and response["Location"] == "/login/?expired=1"
    assert "_auth_user_id" not in client.session


def test_turning_off_needs_the_password(sato):
    enable(sato)
    assert sato.post("/settings/2fa/off", {"password": "wrong"}).status_code == 400
    assert TotpDevice.objects.filter(confirmed=True).exists()
    assert sato.post("/settings/2fa/off", {"password": PASSWORD}).status_code == 302
    assert not TotpDevice.objects.exists() and not StaticToken.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR_OFF).exists()
    _client, response = password_step()
    assert response.status_code == 302 and response["Location"] == "/settings/"


def test_other_sessions_are_signed_out_when_two_step_sign_in_is_turned_on(team, sato):
    other = client_for(team["sato"])
    enable(sato)
    assert sato.get("/settings/").status_code == 200  # the session that turned it on
    response = other.get("/settings/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in other.session


def test_admin_must_have_it_before_requiring_it_of_everyone(team):
    admin = client_for(make_agent("boss", role=Role.ADMIN))
    admin.post("/admin/team/2fa", {"required": "on"})
    assert not twofactor.required()
    enable(admin)
    assert admin.post("/admin/team/2fa", {"required": "on"}).status_code == 302
    assert twofactor.required()
    assert AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR_POLICY).count() == 1


def test_when_required_agents_without_it_only_reach_the_setup_page(team, sato):
    twofactor.set_required(True, actor=User.objects.get(username="sato"))
    for url in ["/", "/settings/", f"/m/{team['support'].pk}/new/", "/notifications/"]:
        response = sato.get(url)
        assert response.status_code == 302 and response["Location"] == "/settings/2fa/", url
    assert sato.get("/settings/2fa/").status_code == 200
    enable(sato)
    assert sato.get("/settings/").status_code == 200
    # and it cannot be turned off while required
    sato.post("/settings/2fa/off", {"password": PASSWORD})
    assert TotpDevice.objects.filter(confirmed=True).exists()


def test_admin_turns_off_an_agents_two_step_sign_in(team, sato):
    enable(sato)
    admin = client_for(make_agent("boss", role=Role.ADMIN))
    assert admin.post(f"/admin/team/{team['sato'].pk}/2fa/off").status_code == 302
    assert not TotpDevice.objects.exists()
    entry = AuditEntry.objects.get(action=AuditAction.TWO_FACTOR_OFF)
    assert entry.actor_name == "boss" and entry.target == "sato"
    assert Client().post(f"/admin/team/{team['sato'].pk}/2fa/off").status_code == 302  # to login
    assert sato.post(f"/admin/team/{team['kato'].pk}/2fa/off").status_code == 403
