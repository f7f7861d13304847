"""The records of passkeys and of the challenges their ceremonies sign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from neodyme_domain.model import UserId

CHALLENGE_TTL = timedelta(minutes=5)
"""How long a ceremony may take between its options and its answer (the WebAuthn
default timeout is five minutes; the options ask the browser for the same)."""

MAX_PASSKEY_NAME = 100
"""Longest name a user may give a passkey (characters, after trimming)."""


class Ceremony(StrEnum):
    """What a challenge was issued for: it is accepted by that ceremony only."""

    REGISTRATION = "registration"
    AUTHENTICATION = "authentication"


@dataclass(frozen=True, slots=True)
class Passkey:
    """A user's WebAuthn credential: its public key and what the authenticator reported.

    ``sign_count`` is the authenticator's signature counter (0 for authenticators that do
    not keep one, as synced passkeys do not); a later assertion must report a greater one
    when either is non-zero, else the credential may have been cloned (WebAuthn Level 2
    section 6.1.1). ``backup_eligible`` / ``backed_up`` are the BE / BS flags: whether the
    credential may be, and is, synced to other devices.
    """

    id: str
    user_id: UserId
    credential_id: str
    """The authenticator's credential id, base64url without padding."""
    public_key: bytes
    """The COSE public key the authenticator created."""
    sign_count: int
    name: str
    created_at: datetime
    transports: tuple[str, ...] = ()
    aaguid: str = ""
    backup_eligible: bool = False
    backed_up: bool = False
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebAuthnChallenge:
    """A challenge the server issued, kept by its digest until one answer spends it.

    ``user_id`` is the user a registration adds a passkey to, or the user whose second
    factor an authentication completes; None for a passwordless sign-in, where the
    credential names its user. ``mfa_digest`` is the digest of the ``mfa_token`` an
    authentication completes as a second factor.
    """

    challenge_digest: str
    ceremony: Ceremony
    created_at: datetime
    expires_at: datetime
    user_id: UserId | None = None
    mfa_digest: str | None = None
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewCredential:
    """What a verified registration answer holds (``WebAuthnCeremonies``)."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...] = ()
    aaguid: str = ""
    backup_eligible: bool = False
    backed_up: bool = False


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    """What a verified authentication answer reports."""

    sign_count: int
    backed_up: bool
    user_verified: bool
