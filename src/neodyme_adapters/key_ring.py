"""The signing keys one server process holds in memory: the one that signs now, the ones
that verify, and the JWKS that publishes them.

Each process loads the stored keys at start and again every few seconds
(``neodyme_app.key_ring_refresh``): signing and verifying then touch no database. A
rotation's key is published ``publish_ahead`` before it signs (``tokens.signing_keys``),
longer than a reload takes to reach every process, so no process meets a token signed by
a key it has not loaded. States are judged at each call from the stored times, so a key
retires on time between two reloads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt import PyJWK

from neodyme_domain.ports import SecretBox
from neodyme_domain.tokens.signing_keys import KeyState, SigningKey, key_statuses


@dataclass(frozen=True, slots=True)
class Signer:
    kid: str
    algorithm: str
    private_key: Any
    """A cryptography private key object, as PyJWT's ``encode`` takes it."""


class KeyRing:
    def __init__(self, box: SecretBox, lifetime: timedelta) -> None:
        """``lifetime``: how long a superseded key keeps verifying (the access-token
        lifetime plus the leeway)."""
        self._box = box
        self._lifetime = lifetime
        self._keys: tuple[SigningKey, ...] = ()
        self._public: dict[str, PyJWK] = {}
        self._private: dict[str, Any] = {}

    def load(self, keys: Sequence[SigningKey]) -> None:
        """Hold ``keys`` from now on (a rotation deletes retired rows, so they are few).
        Each key is parsed and its private key opened once, at the first load that has it."""
        public = {key.kid: self._public.get(key.kid) or _public(key) for key in keys}
        private = {
            key.kid: self._private.get(key.kid) or _private(self._box.open(key.sealed_private_key))
            for key in keys
        }
        self._keys, self._public, self._private = tuple(keys), public, private

    def signer(self, now: datetime) -> Signer | None:
        """The key that signs at ``now``; None before any is loaded."""
        for status in key_statuses(self._keys, now, self._lifetime):
            if status.state is KeyState.SIGNING:
                key = status.key
                return Signer(key.kid, key.algorithm.value, self._private[key.kid])
        return None

    def verifier(self, kid: str, now: datetime) -> PyJWK | None:
        """The public key ``kid`` names, if it is published at ``now``."""
        if kid not in self._public:
            return None
        published = {
            s.key.kid for s in key_statuses(self._keys, now, self._lifetime) if s.published
        }
        return self._public[kid] if kid in published else None

    def jwks(self, now: datetime) -> dict[str, list[dict[str, Any]]]:
        """RFC 7517's JWK Set of the keys published at ``now``: pending, signing and
        verifying ones, newest first."""
        statuses = key_statuses(self._keys, now, self._lifetime)
        return {"keys": [json.loads(s.key.public_jwk) for s in statuses if s.published]}


def _public(key: SigningKey) -> PyJWK:
    return PyJWK(json.loads(key.public_jwk), algorithm=key.algorithm.value)


def _private(pem: str) -> Any:
    return load_pem_private_key(pem.encode(), password=None)
