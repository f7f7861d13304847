"""End the session of a refresh token: its family is revoked, its access tokens die."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidToken
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.ports import Clock, TokenService, UnitOfWork
from neodyme_domain.sessions.end import end_session
from neodyme_domain.tokens.model import digest


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    refresh_token: str
    origin: RequestOrigin = NO_ORIGIN


class Logout:
    """Only the refresh token is needed: a client whose access token has expired can
    still log out. The session's access tokens stop working on the next request."""

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
            await end_session(uow, record.family_id, now)
            await uow.events.record(SecurityEvent.of("logout", now, record.user_id, cmd.origin))
            await uow.commit()
