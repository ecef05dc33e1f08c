"""Two-step sign-in: an authenticator app (TOTP) plus one-use recovery codes.

Every write to devices and to the team's requirement goes through here and is audited.
An agent "has two-step sign-in" when they have a confirmed ``TotpDevice``; the recovery
codes (a ``RecoveryCodes`` device) come with it and go with it.
"""

from __future__ import annotations

import secrets
from base64 import b32encode
from urllib.parse import quote, urlencode

import segno
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from madoguchi.accounts import audit
from madoguchi.accounts.models import AuditAction, RecoveryCodes, TeamSecurity, TotpDevice
from madoguchi.core.crypto import encrypt

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def has_two_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return bool(TotpDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def required() -> bool:
    """Does the team require two-step sign-in of every agent?"""
    return bool(
        TeamSecurity.objects.filter(pk=1).values_list("require_two_factor", flat=True).first()
    )


def set_required(value: bool, *, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        policy, _ = TeamSecurity.objects.select_for_update().get_or_create(pk=1)
        if policy.require_two_factor == value:
            return
        policy.require_two_factor = value
        policy.save(update_fields=["require_two_factor"])
        audit.record(AuditAction.TWO_FACTOR_POLICY, actor=actor, target="team",
                     request=request, required=value)  # fmt: skip


def start(user: User) -> TotpDevice:
    """A new, unconfirmed authenticator for ``user`` (replacing an earlier unconfirmed one)."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user, confirmed=False).delete()
        device: TotpDevice = TotpDevice.objects.create(
            user=user, name="authenticator", confirmed=False,
            encrypted_key=encrypt(secrets.token_bytes(20).hex()),
        )  # fmt: skip
    return device


def unconfirmed(user: User) -> TotpDevice | None:
    device: TotpDevice | None = (
        TotpDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    )
    return device


def secret_text(device: TotpDevice) -> str:
    """The secret as people type it into an app: base32 in groups of four."""
    b32 = b32encode(device.key).decode("ascii")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def config_url(device: TotpDevice, user: User) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    label = quote(f"Madoguchi:{user.get_username()}")
    params = urlencode({"secret": b32encode(device.key).decode("ascii"), "issuer": "Madoguchi",
                        "algorithm": "SHA1", "digits": 6, "period": 30})  # fmt: skip
    return f"otpauth://totp/{label}?{params}"


def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as an SVG data: URI (the page's CSP allows data: images)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=5, border=2))


def confirm(
    device: TotpDevice, code: str, *, request: HttpRequest | None = None
) -> list[str] | None:
    """Turn two-step sign-in on if ``code`` is right; returns the new recovery codes."""
    with transaction.atomic():
        locked = (
            TotpDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
        )
        if locked is None or not locked.verify_token(code):
            return None
        TotpDevice.objects.filter(user_id=locked.user_id, confirmed=True).delete()
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(locked.user)
        audit.record(AuditAction.TWO_FACTOR_ON, actor=locked.user,
                     target=locked.user.get_username(), request=request)  # fmt: skip
    device.confirmed = True
    return codes


def regenerate_recovery_codes(user: User, *, request: HttpRequest | None = None) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record(AuditAction.RECOVERY_CODES, actor=user, target=user.get_username(),
                     request=request)  # fmt: skip
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = RecoveryCodes.objects.get_or_create(
        user=user, defaults={"name": "recovery codes", "confirmed": True}
    )
    device.token_set.all().delete()
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=RecoveryCodes.digest(c)) for c in codes]
    )
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user).count())


def disable(user: User, *, actor: User, request: HttpRequest | None = None) -> None:
    """Turn two-step sign-in off for ``user`` (by themselves, or by an admin)."""
    with transaction.atomic():
        had = TotpDevice.objects.filter(user=user, confirmed=True).exists()
        TotpDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        if had:
            audit.record(AuditAction.TWO_FACTOR_OFF, actor=actor, target=user.get_username(),
                         request=request)  # fmt: skip


def verify(user: User, code: str, *, request: HttpRequest | None = None) -> Device | None | bool:
    """Check a second-step code: six digits for the app, anything else a recovery code.

    Returns the device that accepted it, None for a wrong code, or False when the device
    refuses to check for now (too many wrong codes in a row: django-otp's throttling).
    """
    text = code.strip().replace(" ", "")
    if not text or len(text) > 32:
        return None
    with transaction.atomic():
        device: Device | None
        if text.isdigit() and len(text) == 6:
            device = (
                TotpDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
        else:
            device = RecoveryCodes.objects.select_for_update().filter(user=user).first()
        if device is None:
            return None
        if not device.verify_is_allowed()[0]:
            return False
        if not device.verify_token(text):
            return None
        if isinstance(device, RecoveryCodes):
            audit.record(AuditAction.RECOVERY_USED, actor=user, target=user.get_username(),
                         request=request, left=device.token_set.count())  # fmt: skip
    return device
