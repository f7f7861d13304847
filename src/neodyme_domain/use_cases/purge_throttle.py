"""Forget expired throttle states: the login throttle's housekeeping."""

from __future__ import annotations

from neodyme_domain.ports import Clock, UnitOfWork


class PurgeExpiredThrottles:
    """Delete every throttle state that no longer matters (``ThrottleState.expires_at``).

    Expired states are harmless (they count as absent), so this only bounds the store's
    size: a key seen once (a mistyped or sprayed address) otherwise stays forever. Run it
    now and then (``neodyme db purge-throttle``, e.g. hourly from cron); it returns how
    many states it deleted.
    """

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self) -> int:
        async with self._uow as uow:
            purged = await uow.throttle.purge_expired(self._clock.now())
            await uow.commit()
        return purged
