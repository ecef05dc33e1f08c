"""Encryption of secrets at rest (mail account passwords), keyed from SECRET_KEY.

Uses Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``; the key is derived from
Django's SECRET_KEY with HKDF. Values stored under one of ``SECRET_KEY_FALLBACKS``
(``MADOGUCHI_SECRET_KEY_FALLBACKS``) still decrypt, and are stored under the current key
the next time they are saved: a key can be rotated without typing the passwords again.

A value that no key decrypts (the secret key changed and the old one is gone) does not
break the page that loads it: ``EncryptedTextField`` gives a ``LostSecret``, an empty
string that remembers the stored token (saving the row keeps it, in case the old key comes
back), and the mailbox pages ask for the password again (``Mailbox.lost_passwords``).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models


@lru_cache(maxsize=8)
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"madoguchi-secrets").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(secret) for secret in secrets])


def encrypt(value: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plain value; ``ValueError`` when neither the key nor a fallback decrypts it."""
    try:
        return _keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise ValueError("secret cannot be decrypted with the current secret key") from exc


class LostSecret(str):
    """A stored secret that no current key decrypts: reads as "", keeps its token."""

    token: str

    def __new__(cls, token: str) -> LostSecret:
        value = super().__new__(cls, "")
        value.token = token
        return value


def is_lost(value: object) -> bool:
    return isinstance(value, LostSecret)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted; Python sees the plain value (or a ``LostSecret``)."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str:
        if not value:
            return ""
        try:
            return decrypt(value)
        except ValueError:
            return LostSecret(value)

    def get_prep_value(self, value: object) -> str:
        if isinstance(value, LostSecret):
            return value.token
        text = "" if value is None else str(value)
        return encrypt(text) if text else ""
