"""The pages' own keys, derived from NEODYME_SECRET_KEY.

One secret to configure, as for the TOTP secrets' ``derived`` key (neodyme_adapters.fernet_box),
and a key per purpose: HKDF-SHA-256 with the purpose as ``info``, so the session cookie's
key, the CSRF tokens' HMAC key and the JWT signing key are independent of one another.
Changing the secret key signs every browser out, as it invalidates every token anyway.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32


def page_key(secret_key: str, purpose: str) -> bytes:
    """32 bytes for ``purpose`` (``session cookie``, ``csrf``), the same in every process."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"neodyme pages: {purpose}".encode(),
    )
    return hkdf.derive(secret_key.encode())
