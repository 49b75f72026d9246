"""Encryption of TikTok tokens at rest.

Keys come from settings.TOKEN_ENCRYPTION_KEYS (Fernet keys, newest first), never from
SECRET_KEY, so either secret can be rotated without touching the other. New ciphertexts
always use the newest key; older keys stay readable until `rotate_token_key` has run.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenDecryptionError(Exception):
    """A stored token cannot be read with any configured key."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "Every TOKEN_ENCRYPTION_KEYS entry must be a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from exc


def token_fernet() -> MultiFernet:
    keys = tuple(k.strip() for k in settings.TOKEN_ENCRYPTION_KEYS if k.strip())
    return _fernet_for(keys)


def _as_bytes(ciphertext: bytes | memoryview | bytearray) -> bytes:
    return bytes(ciphertext)


def encrypt_token(plaintext: str) -> bytes:
    """Ciphertext under the newest key; the empty string stays empty (no token stored)."""
    if not plaintext:
        return b""
    return token_fernet().encrypt(plaintext.encode("utf-8"))


def decrypt_token(ciphertext: bytes | memoryview | bytearray | None) -> str:
    data = _as_bytes(ciphertext) if ciphertext is not None else b""
    if not data:
        return ""
    try:
        return token_fernet().decrypt(data).decode("utf-8")
    except InvalidToken as exc:
        raise TokenDecryptionError(
            "A stored TikTok token cannot be decrypted with the configured keys."
        ) from exc


def reencrypt_token(ciphertext: bytes | memoryview | bytearray | None) -> bytes:
    """The same token re-encrypted under the newest key (for key rotation)."""
    data = _as_bytes(ciphertext) if ciphertext is not None else b""
    if not data:
        return b""
    try:
        return token_fernet().rotate(data)
    except InvalidToken as exc:
        raise TokenDecryptionError(
            "A stored TikTok token cannot be decrypted with the configured keys."
        ) from exc


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
