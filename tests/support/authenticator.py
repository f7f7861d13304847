"""A software WebAuthn authenticator for tests that run without a browser.

It answers ``navigator.credentials.create()`` / ``.get()`` options (the WebAuthn Level 3
JSON forms neodyme sends) the way a platform authenticator behind a browser would: an
ES256 key pair per credential (``cryptography``), CBOR-encoded authenticator data and a
"none" attestation (``cbor2``, which py_webauthn itself depends on), client data naming
the page's origin. Every field a ceremony checks can be made wrong on purpose (origin,
rp id, user verification, counter, signature) to test the refusals.

Built here rather than taken from ``soft-webauthn`` (0.1.4): that package sets no user
verification flag, which neodyme requires, and keeps no knobs for the failure table.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class SoftAuthenticator:
    """One authenticator (a phone, a laptop): the credentials it created, by id.

    ``origin`` is the origin the "browser" reports; ``counts`` says whether it keeps a
    signature counter (synced passkeys do not: they report 0).
    """

    origin: str
    counts: bool = True
    user_verifying: bool = True
    credentials: dict[str, Credential] = field(default_factory=dict)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        same_as: Credential | None = None,
    ) -> dict[str, Any]:
        """A ``RegistrationResponseJSON`` for ``options``. ``origin`` / ``rp_id`` replace
        what a browser would report, to make the answer wrong on purpose; ``same_as``
        reuses that credential's id (an authenticator ignoring ``excludeCredentials``)."""
        rp = rp_id or options["rp"]["id"]
        credential = Credential(
            credential_id=same_as.credential_id if same_as else secrets.token_bytes(16),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp,
            user_handle=unb64url(options["user"]["id"]),
        )
        self.credentials[credential.id] = credential
        attested = (
            bytes(16)  # aaguid: none
            + len(credential.credential_id).to_bytes(2, "big")
            + credential.credential_id
            + credential.cose_public_key()
        )
        auth_data = self._auth_data(rp, AT, credential.sign_count) + attested
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(
                    cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
                ),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        tamper: bool = False,
    ) -> dict[str, Any]:
        """An ``AuthenticationResponseJSON`` for ``options``, from ``credential`` or the
        first one the options allow (any of this rp id's when they allow none).
        ``sign_count`` reports that counter instead of the next one; ``tamper`` flips a
        bit of the signed data after signing."""
        chosen = credential or self._choose(options)
        if sign_count is not None:
            chosen.sign_count = sign_count
        elif self.counts:
            chosen.sign_count += 1
        auth_data = self._auth_data(rp_id or chosen.rp_id, 0, chosen.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        if tamper:
            auth_data = auth_data[:-1] + bytes([auth_data[-1] ^ 1])
        return {
            "id": chosen.id,
            "rawId": chosen.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
            "clientExtensionResults": {},
        }

    def _choose(self, options: dict[str, Any]) -> Credential:
        allowed = [each["id"] for each in options.get("allowCredentials", [])]
        for credential in self.credentials.values():
            if credential.rp_id == options["rpId"] and (not allowed or credential.id in allowed):
                return credential
        raise LookupError("no credential of this authenticator answers these options")

    def _auth_data(self, rp_id: str, extra_flags: int, sign_count: int) -> bytes:
        flags = UP | extra_flags | (UV if self.user_verifying else 0)
        if not self.counts:
            flags |= BE | BS  # a synced passkey: backup eligible, backed up
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + sign_count.to_bytes(4, "big")
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        ).encode()
