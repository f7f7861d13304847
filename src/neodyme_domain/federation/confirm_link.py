"""The owner of an account proves it is theirs: the provider's identity is linked to it."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import FederationRefused, MfaRequired
from neodyme_domain.federation.linking import link_identity
from neodyme_domain.federation.model import FederationRequest, RequestPurpose
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases.authenticate import (
    AuthenticateCommand,
    Authenticated,
    AuthenticateUser,
)


@dataclass(frozen=True, slots=True)
class LinkConfirmation:
    link_token: str
    password: str
    origin: RequestOrigin = NO_ORIGIN

    def __repr__(self) -> str:  # the password and token stay out of logs and tracebacks
        return f"LinkConfirmation(origin={self.origin!r})"


class ConfirmLink:
    """The proof is the account's password, checked by the login itself
    (``AuthenticateUser``: the same throttling, the same answers), so a link can be
    confirmed by nobody who could not sign in anyway. Once the password proved right the
    identity is linked, even if the account's second factor is still to come
    (MFA_REQUIRED is raised after the link, and the sign-in continues as a login's does):
    signing in with the provider later still asks for that second factor.

    The link token is spent first: a wrong password ends the attempt, and the user signs
    in with the provider again (another ten minutes, another token). An account without
    a password (made by another provider) gets one with "Forgot password" first.
    """

    def __init__(self, *, uow: UnitOfWork, authenticate: AuthenticateUser, clock: Clock) -> None:
        self._uow = uow
        self._authenticate = authenticate
        self._clock = clock

    async def __call__(self, cmd: LinkConfirmation) -> Authenticated:
        request = await self._spend(cmd.link_token)
        async with self._uow as uow:
            owner = await uow.users.get(request.user_id) if request.user_id else None
        if owner is None:  # deleted meanwhile
            raise FederationRefused(context={"reason": "account gone"})
        login = AuthenticateCommand(
            email=owner.email.value, password=cmd.password, origin=cmd.origin
        )
        try:
            authenticated = await self._authenticate(login)
        except MfaRequired:
            await self._link(request, cmd.origin)
            raise
        await self._link(request, cmd.origin)
        return authenticated

    async def _spend(self, link_token: str) -> FederationRequest:
        async with self._uow as uow:
            request = await uow.federation_requests.take(digest(link_token), self._clock.now())
            await uow.commit()
        if request is None or request.purpose is not RequestPurpose.LINK:
            raise FederationRefused(context={"reason": "link token"})
        return request

    async def _link(self, request: FederationRequest, origin: RequestOrigin) -> None:
        now = self._clock.now()
        async with self._uow as uow:
            owner = await uow.users.get(request.user_id) if request.user_id else None
            if owner is None:
                raise FederationRefused(context={"reason": "account gone"})
            await link_identity(
                uow, owner, request.provider, request.subject, request.email, now, origin
            )
            await uow.commit()
