"""Resolve the user behind an access token: the check every protected request makes."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidToken
from neodyme_domain.model import User
from neodyme_domain.ports import TokenService, UnitOfWork


@dataclass(frozen=True, slots=True)
class CurrentUserQuery:
    access_token: str


class GetCurrentUser:
    """A valid signature is not enough: the user must still exist, be active, and not have
    revoked the token since (``token_version``), so deactivation, deletion and password
    changes take effect on the very next request, not at expiry. The lookup is one indexed
    primary-key read per request; bench/revocation_cost.py measures it."""

    def __init__(self, *, uow: UnitOfWork, tokens: TokenService) -> None:
        self._uow = uow
        self._tokens = tokens

    async def __call__(self, query: CurrentUserQuery) -> User:
        claims = self._tokens.decode_access(query.access_token)
        async with self._uow as uow:
            user = await uow.users.get(claims.user_id)
        if user is None or not user.is_active or user.token_version != claims.token_version:
            raise InvalidToken(context={"user_id": claims.user_id})
        return user
