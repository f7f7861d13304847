"""Trade a refresh token for a new pair. Each refresh token works once (rotation)."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidToken, TokenReused
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.ports import Clock, TokenService, UnitOfWork
from neodyme_domain.sessions.end import end_session
from neodyme_domain.sessions.issue import issue_pair
from neodyme_domain.tokens.model import RefreshTokenRecord, TokenPair, digest


@dataclass(frozen=True, slots=True)
class RefreshCommand:
    refresh_token: str
    origin: RequestOrigin = NO_ORIGIN


class RefreshTokens:
    """A refresh token presented a second time means two parties hold it, one of them a
    thief: the session ends (every token descended from that login is revoked, its access
    tokens refused), so neither can continue, and the legitimate user logs in again."""

    def __init__(self, *, uow: UnitOfWork, tokens: TokenService, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def __call__(self, cmd: RefreshCommand) -> TokenPair:
        self._tokens.decode_refresh(cmd.refresh_token)  # signature, expiry and type
        token_digest = digest(cmd.refresh_token)
        now = self._clock.now()
        async with self._uow as uow:
            record = await uow.refresh_tokens.get(token_digest)
            if record is None or record.revoked_at is not None or record.expires_at <= now:
                raise InvalidToken()
            reused = record.used_at is not None or not await uow.refresh_tokens.mark_used(
                token_digest, now
            )
            if not reused:
                user = await uow.users.get(record.user_id)
                session = await uow.sessions.get(record.family_id)
                if user is None or not user.is_active or session is None:
                    raise InvalidToken()
                pair = await issue_pair(uow, self._tokens, user, now=now, session=session)
                await uow.commit()
                return pair
        # Revoked in a transaction of its own: a store may keep the lock that a losing
        # mark_used took on the presented token (PostgreSQL keeps an UPDATE's row lock
        # even when the row then fails its re-check), and revoking the family while
        # holding it locks the family's tokens out of order: parallel reuse of one token
        # deadlocked (tests/e2e/test_token_hardening.py, ten parallel refreshes).
        await self._revoke_reused_family(record, cmd)
        raise TokenReused(context={"family_id": record.family_id})

    async def _revoke_reused_family(self, record: RefreshTokenRecord, cmd: RefreshCommand) -> None:
        async with self._uow as uow:
            now = self._clock.now()
            await end_session(uow, record.family_id, now)
            await uow.events.record(
                SecurityEvent.of(
                    "refresh_token_reused",
                    now,
                    record.user_id,
                    cmd.origin,
                    family_id=record.family_id,
                )
            )
            await uow.commit()
