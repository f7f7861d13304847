"""The first half of signing in with a passkey: the options for an assertion."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import PasskeyRefused
from neodyme_domain.mfa.verify_mfa import live_mfa_challenge
from neodyme_domain.model import UserId
from neodyme_domain.passkeys.challenges import issue_challenge
from neodyme_domain.passkeys.model import Ceremony
from neodyme_domain.ports import Clock, UnitOfWork, WebAuthnCeremonies
from neodyme_domain.tokens.model import digest


@dataclass(frozen=True, slots=True)
class PasskeySignInRequest:
    mfa_token: str | None = None
    """Given: the passkey completes a login that answered MFA_REQUIRED; absent: the
    passkey is the whole sign-in (passwordless)."""


class BeginPasskeySignIn:
    """Options for ``navigator.credentials.get()``. Without an ``mfa_token`` they name
    no credential: the authenticator offers the passkeys it holds for this site
    (discoverable credentials), and nothing tells the caller whether an account exists.
    With one, they list that login's user's passkeys, and the challenge is bound to
    the login: its answer is accepted from that user's passkeys only."""

    def __init__(self, *, uow: UnitOfWork, ceremonies: WebAuthnCeremonies, clock: Clock) -> None:
        self._uow = uow
        self._ceremonies = ceremonies
        self._clock = clock

    async def __call__(self, request: PasskeySignInRequest) -> dict[str, object]:
        now = self._clock.now()
        user_id: UserId | None = None
        mfa_digest: str | None = None
        allow: list[str] = []
        async with self._uow as uow:
            if request.mfa_token is not None:
                mfa_digest = digest(request.mfa_token)
                _, user = await live_mfa_challenge(uow, mfa_digest, now)
                user_id = user.id
                allow = [passkey.credential_id for passkey in await uow.passkeys.list_for(user_id)]
                if not allow:
                    raise PasskeyRefused(context={"user_id": user_id, "reason": "no passkey"})
            challenge = await issue_challenge(
                uow, Ceremony.AUTHENTICATION, now, user_id=user_id, mfa_digest=mfa_digest
            )
            await uow.commit()
        return self._ceremonies.authentication_options(challenge=challenge, allow=allow)
