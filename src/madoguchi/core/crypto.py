"""Encryption of secrets at rest (mail account passwords), keyed from SECRET_KEY.

Uses Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``; the key is derived from
Django's SECRET_KEY with HKDF, so rotating SECRET_KEY requires re-entering the secrets.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"madoguchi-secrets").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the current secret key") from exc


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted; Python sees the plain value."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str:
        return decrypt(value) if value else ""

    def get_prep_value(self, value: object) -> str:
        text = "" if value is None else str(value)
        return encrypt(text) if text else ""
