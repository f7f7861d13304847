"""Deliver queued e-mails: run by the app's dispatcher after commits and on a timer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from neodyme_domain.ports import Clock, Notifier, UnitOfWork


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int
    failed: int
    more_due: bool = False
    """The round claimed a full batch: more entries may be due already."""


def backoff(attempts: int, base: timedelta, ceiling: timedelta) -> timedelta:
    """Exponential: base, 2*base, 4*base... capped, so a long outage is retried calmly.

    The exponent is clamped before multiplying: ``base * 2**n`` would overflow timedelta
    after a few dozen attempts (about eight hours of outage at the defaults) and crash the
    dispatcher exactly when it should keep retrying.
    """
    exponent = min(max(attempts - 1, 0), 32)
    return min(base * (1 << exponent), ceiling)


class DeliverOutbox:
    """Claim due entries, send each, and record the outcome.

    Claiming pushes an entry's next attempt ``lease`` ahead before sending, so concurrent
    dispatchers never take the same entry; if this process dies mid-send the lease runs out
    and another dispatcher retries (delivery is at least once, never zero times).

    Entries are sent one after the other, so a slow mail server can make a batch outlast
    its lease, and another dispatcher would then send the rest of it too. So sending stops
    once half the lease has passed: what is left is taken again when the lease runs out, by
    whichever dispatcher comes first. (One send must take less than half the lease: the
    SMTP timeout is far below it.)
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        notifier: Notifier,
        clock: Clock,
        batch_size: int = 50,
        lease: timedelta = timedelta(seconds=60),
        retry_base: timedelta = timedelta(seconds=2),
        retry_ceiling: timedelta = timedelta(minutes=10),
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        self._clock = clock
        self._batch_size = batch_size
        self._lease = lease
        self._retry_base = retry_base
        self._retry_ceiling = retry_ceiling

    async def __call__(self) -> Delivery:
        claimed_at = self._clock.now()
        async with self._uow as uow:
            entries = await uow.outbox.claim_due(claimed_at, self._batch_size, self._lease)
            await uow.commit()
        send_until = claimed_at + self._lease / 2
        sent = failed = 0
        for entry in entries:
            if self._clock.now() >= send_until:
                break
            try:
                await self._notifier.send(entry.message)
            except Exception as exc:  # any failure of the mail path must be retried later
                failed += 1
                delay = backoff(entry.attempts + 1, self._retry_base, self._retry_ceiling)
                async with self._uow as uow:
                    await uow.outbox.mark_failed(
                        entry.id, f"{type(exc).__name__}: {exc}", self._clock.now() + delay
                    )
                    await uow.commit()
            else:
                sent += 1
                async with self._uow as uow:
                    await uow.outbox.mark_sent(entry.id, self._clock.now())
                    await uow.commit()
        return Delivery(sent=sent, failed=failed, more_due=len(entries) == self._batch_size)
