"""Issuing and spending the challenges both ceremonies sign."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from neodyme_domain.errors import InvalidChallenge
from neodyme_domain.model import UserId
from neodyme_domain.passkeys.model import CHALLENGE_TTL, Ceremony, WebAuthnChallenge
from neodyme_domain.ports import UnitOfWork, WebAuthnCeremonies

CHALLENGE_BYTES = 32
"""WebAuthn asks for at least 16 random bytes (Level 2, section 13.4.3)."""


def challenge_digest(challenge: bytes) -> str:
    """What the store keeps: a leaked table holds no challenge anyone could answer."""
    return hashlib.sha256(challenge).hexdigest()


async def issue_challenge(
    uow: UnitOfWork,
    ceremony: Ceremony,
    now: datetime,
    *,
    user_id: UserId | None = None,
    mfa_digest: str | None = None,
) -> bytes:
    """A fresh challenge for ``ceremony``, stored (in ``uow``'s transaction) for
    ``CHALLENGE_TTL``. Anyone may ask for sign-in options, so each issue also deletes the
    expired challenges (an indexed range): the table holds at most five minutes' worth,
    with no housekeeping job to remember."""
    await uow.webauthn_challenges.purge_expired(now)
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    await uow.webauthn_challenges.add(
        WebAuthnChallenge(
            challenge_digest=challenge_digest(challenge),
            ceremony=ceremony,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
            user_id=user_id,
            mfa_digest=mfa_digest,
        )
    )
    return challenge


def signed_challenge(ceremonies: WebAuthnCeremonies, answer: dict[str, object]) -> bytes:
    """The challenge ``answer`` signed (unverified: which stored one to spend);
    INVALID_CHALLENGE if it names none."""
    challenge = ceremonies.challenge_of(answer)
    if challenge is None:
        raise InvalidChallenge(context={"reason": "no challenge in the answer"})
    return challenge


async def spend_challenge(
    uow: UnitOfWork, challenge: bytes, now: datetime
) -> WebAuthnChallenge | None:
    """Spend the stored ``challenge`` in ``uow``'s transaction, which the caller commits
    whatever the answer's fate: a challenge is never answered again. None if it is
    unknown, expired or spent."""
    return await uow.webauthn_challenges.take(challenge_digest(challenge), now)


def issued_for(record: WebAuthnChallenge | None, ceremony: Ceremony) -> WebAuthnChallenge:
    """The spent challenge, if it was live and issued for ``ceremony``; else
    INVALID_CHALLENGE."""
    if record is None or record.ceremony is not ceremony:
        raise InvalidChallenge(context={"ceremony": ceremony.value})
    return record
