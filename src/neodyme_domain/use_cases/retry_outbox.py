"""Put e-mails back in the queue after the mail path was fixed: ``neodyme outbox retry``."""

from __future__ import annotations

from neodyme_domain.ports import Clock, UnitOfWork


class RetryOutbox:
    """Make failing e-mails due now instead of after their backoff; with ``dead=True``
    revive the given-up ones too, with a full budget of attempts again.

    Returns how many e-mails were put back. The dispatchers of the running servers send
    them at their next poll. Delivery stays at least once: an e-mail that a dispatcher is
    sending at this very moment may be sent a second time, as after a crash.
    """

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, *, dead: bool = False) -> int:
        async with self._uow as uow:
            requeued = await uow.outbox.requeue(self._clock.now(), include_dead=dead)
            await uow.commit()
        return requeued
