"""The keys that sign access tokens when they are asymmetric (EdDSA or ES256), and the
rule of their rotation.

Keys form generations. The newest generation whose ``active_from`` has come signs; a
rotation adds a generation that becomes active ``publish_ahead`` later, so that every
server process (which reloads its keys a few times within that delay) and every resource
server's cache of the JWKS knows the public key before any token it signed exists. A key
that stopped signing keeps verifying for ``lifetime`` (an access token's lifetime plus the
clock leeway): once every token it signed has expired it is retired, automatically, by
this rule alone; the next rotation deletes retired rows. Rotation therefore never refuses
a live token.

Refresh tokens are not signed by these keys: only neodyme reads them, so they stay
HMAC-signed with ``NEODYME_SECRET_KEY`` (as Keycloak signs its refresh tokens with a realm
HMAC key), and neither a rotation nor a change of algorithm ends a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SigningAlgorithm(StrEnum):
    """JWS algorithms a key can have (RFC 8037's Ed25519 ``EdDSA``; ``ES256`` on P-256)."""

    EDDSA = "EdDSA"
    ES256 = "ES256"


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """A fresh key pair, as a ``KeyMaker`` makes it."""

    kid: str
    """The RFC 7638 thumbprint of the public key: stable, and unique without a counter."""
    public_jwk: str
    """The public key as JWK JSON (RFC 7517), with ``kid``, ``alg`` and ``use``."""
    private_pem: str


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    generation: int
    """1, 2, ...: unique, so that two rotations at once cannot both add the next key."""
    algorithm: SigningAlgorithm
    public_jwk: str
    sealed_private_key: str
    """The private key's PEM, sealed by the ``SecretBox`` (``NEODYME_ENCRYPTION_KEYS``)."""
    created_at: datetime
    active_from: datetime


class KeyState(StrEnum):
    PENDING = "pending"
    """Published, not signing yet."""
    SIGNING = "signing"
    VERIFYING = "verifying"
    """Superseded; verifies the tokens it signed until they have all expired."""
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class KeyStatus:
    key: SigningKey
    state: KeyState
    retires_at: datetime | None
    """When the last token it signed expires; None while it signs or waits to."""

    @property
    def published(self) -> bool:
        """In the JWKS and accepted when verifying: every state but retired."""
        return self.state is not KeyState.RETIRED


def key_statuses(keys: Sequence[SigningKey], now: datetime, lifetime: timedelta) -> list[KeyStatus]:
    """Each key's state at ``now``, newest generation first."""
    newest_first = sorted(keys, key=lambda key: key.generation, reverse=True)
    statuses: list[KeyStatus] = []
    successor_from: datetime | None = None  # when the next active generation took over
    for key in newest_first:
        if key.active_from > now:
            statuses.append(KeyStatus(key, KeyState.PENDING, None))
            continue
        if successor_from is None:
            statuses.append(KeyStatus(key, KeyState.SIGNING, None))
        else:
            retires_at = successor_from + lifetime
            state = KeyState.VERIFYING if retires_at > now else KeyState.RETIRED
            statuses.append(KeyStatus(key, state, retires_at))
        successor_from = key.active_from
    return statuses


def next_key(
    keys: Sequence[SigningKey],
    material: KeyMaterial,
    algorithm: SigningAlgorithm,
    sealed_private_key: str,
    *,
    now: datetime,
    active_from: datetime,
) -> SigningKey:
    """The generation after ``keys``, active from ``active_from`` or, if a pending key
    already waits for a later time, from then: generations take over in order."""
    newest = max(keys, key=lambda key: key.generation, default=None)
    if newest is not None:
        active_from = max(active_from, newest.active_from)
    return SigningKey(
        kid=material.kid,
        generation=1 if newest is None else newest.generation + 1,
        algorithm=algorithm,
        public_jwk=material.public_jwk,
        sealed_private_key=sealed_private_key,
        created_at=now,
        active_from=active_from,
    )
