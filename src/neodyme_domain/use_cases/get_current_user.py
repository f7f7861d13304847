"""Resolve the user behind an access token: the check every protected request makes."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidToken
from neodyme_domain.model import User
from neodyme_domain.ports import Clock, TokenService, UnitOfWork
from neodyme_domain.tokens.model import AccessClaims


@dataclass(frozen=True, slots=True)
class CurrentUserQuery:
    access_token: str


@dataclass(frozen=True, slots=True)
class CurrentSession:
    """The caller and the session its access token belongs to (``sid``)."""

    user: User
    session_id: str
    claims: AccessClaims


class GetCurrentUser:
    """A valid signature is not enough: the user must still exist, be active, and not have
    revoked the token since (``token_version``), and the token's session must not have
    ended, so deactivation, deletion, password changes and ended sessions take effect on
    the very next request, not at expiry. The lookup is one read of the session and its
    user (two primary keys, one round trip); bench/revocation_cost.py measures it."""

    def __init__(self, *, uow: UnitOfWork, tokens: TokenService, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def __call__(self, query: CurrentUserQuery) -> User:
        return (await self.with_session(query)).user

    async def with_session(self, query: CurrentUserQuery) -> CurrentSession:
        claims = self._tokens.decode_access(query.access_token)
        async with self._uow as uow:
            found = await uow.sessions.get_with_user(claims.session_id)
        if found is None or found[0].user_id != claims.user_id:
            raise InvalidToken(context={"user_id": claims.user_id, "reason": "no such session"})
        session, user = found
        if not user.is_active or user.token_version != claims.token_version:
            raise InvalidToken(context={"user_id": user.id})
        if not session.is_live(self._clock.now()):
            raise InvalidToken(context={"user_id": user.id, "reason": "session ended"})
        return CurrentSession(user=user, session_id=session.id, claims=claims)
