"""Encryption at rest for personal data (身份证号、手机号) and keyed hashes to search by them.

Keys come from the environment or a key file, never from the database:

- ``DUALGRID_FIELD_KEYS``: comma-separated Fernet keys, the first encrypts, all decrypt
  (``dualgrid generate_field_key`` prints a new one). Or ``DUALGRID_FIELD_KEY_FILE``: one key per line.
- ``DUALGRID_HASH_KEY``: the secret of the keyed hash (HMAC-SHA256) used for exact-match search.
  Changing it needs ``dualgrid rotate_field_keys --rehash``.

Without either (development, demo, tests) keys are derived from ``SECRET_KEY``; ``dualgrid check
--deploy`` warns about that. Rotation: put the new key first, keep the old ones after it, run
``dualgrid rotate_field_keys`` (re-encrypts every value with the first key), then drop the old keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "enc1:"


def _derived(label: str) -> bytes:
    return hashlib.sha256(f"dualgrid:{label}:{settings.SECRET_KEY}".encode()).digest()


def configured_keys() -> list[str]:
    raw = os.environ.get("DUALGRID_FIELD_KEYS", "")
    path = os.environ.get("DUALGRID_FIELD_KEY_FILE", "")
    if not raw and path:
        raw = ",".join(line.strip() for line in Path(path).read_text().splitlines() if line.strip())
    return [k.strip() for k in raw.split(",") if k.strip()]


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = configured_keys() or [base64.urlsafe_b64encode(_derived("field-key")).decode()]
    return MultiFernet([Fernet(k) for k in keys])


@lru_cache(maxsize=1)
def _hash_key() -> bytes:
    raw = os.environ.get("DUALGRID_HASH_KEY", "")
    return raw.encode() if raw else _derived("hash-key")


def reset_key_cache() -> None:
    _fernet.cache_clear()
    _hash_key.cache_clear()


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption was switched on; rotate_field_keys encrypts it
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("无法解密个人信息：密钥不匹配（检查 DUALGRID_FIELD_KEYS）") from exc


def keyed_hash(value: str) -> str:
    """A stable, secret-keyed digest for exact-match search; empty for empty values."""
    if not value:
        return ""
    return hmac.new(_hash_key(), value.strip().upper().encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """Stored encrypted (Fernet), read back as plain text. Not searchable: pair it with a hash column."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return decrypt(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if isinstance(value, str) and value.startswith(PREFIX):
            return value
        return encrypt(str(value))
