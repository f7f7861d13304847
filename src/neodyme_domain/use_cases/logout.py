"""End a session: revoke the refresh token's whole family."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidToken
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.ports import Clock, TokenService, UnitOfWork
from neodyme_domain.tokens import digest


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    refresh_token: str
    origin: RequestOrigin = NO_ORIGIN


class Logout:
    """Only the refresh token is needed: a client whose access token has expired can
    still log out. The access token of the session dies at its (short) expiry."""

    def __init__(self, *, uow: UnitOfWork, tokens: TokenService, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def __call__(self, cmd: LogoutCommand) -> None:
        self._tokens.decode_refresh(cmd.refresh_token)
        now = self._clock.now()
        async with self._uow as uow:
            record = await uow.refresh_tokens.get(digest(cmd.refresh_token))
            if record is None or record.revoked_at is not None:
                raise InvalidToken()
            await uow.refresh_tokens.revoke_family(record.family_id, now)
            await uow.events.record(SecurityEvent.of("logout", now, record.user_id, cmd.origin))
            await uow.commit()
