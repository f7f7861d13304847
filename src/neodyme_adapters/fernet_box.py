"""Authenticated encryption of small secrets at rest (``SecretBox``), by cryptography's
Fernet (AES-128-CBC with HMAC-SHA-256) under ``MultiFernet`` for key rotation: the first
key seals, every key opens, ``reseal`` moves a secret to the first key.

Keys come from ``NEODYME_ENCRYPTION_KEYS`` (neodyme_app.config): Fernet keys, or
``derived``, a key derived from the JWT secret key with HKDF-SHA-256 (so that a fresh
install needs no second secret).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from neodyme_domain.errors import SecretUnreadable

_HKDF_INFO = b"neodyme: secrets at rest (TOTP)"


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from ``secret_key``: 32 bytes of HKDF, base64url."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


def new_key() -> str:
    """A fresh random Fernet key (``neodyme mfa new-key``)."""
    return Fernet.generate_key().decode()


class FernetSecretBox:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured encryption key opens this secret") from None

    def reseal(self, sealed: str) -> str:
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured encryption key opens this secret") from None
