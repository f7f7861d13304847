"""Deliver queued e-mails: run by the app's dispatcher after commits and on a timer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from neodyme_domain.messages import OutboxEntry
from neodyme_domain.ports import Clock, Notifier, UnitOfWork

MAX_ATTEMPTS = 440
"""Attempts before an e-mail is given up: about three days at the default retry delays.

Attempt n+1 comes ``backoff(n)`` after attempt n: 2 s doubling to the 600 s ceiling, so
the first nine waits take 2 + 4 + ... + 512 = 1,022 s (17 min) and every later one 600 s.
440 attempts are 439 waits: 1,022 s + 430 x 600 s = 259,022 s, 71.95 hours. With other
retry settings the same count spans another time: (ceiling x attempts) roughly."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An e-mail given up in this round: what an operator needs to find it, no content."""

    entry_id: uuid.UUID
    kind: str
    recipient_domain: str
    attempts: int
    last_error: str

    @classmethod
    def of(cls, entry: OutboxEntry, attempts: int, error: str) -> DeadLetter:
        return cls(
            entry_id=entry.id,
            kind=entry.message.kind,
            recipient_domain=entry.message.to.rpartition("@")[2],
            attempts=attempts,
            last_error=error,
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int
    failed: int
    more_due: bool = False
    """The round claimed a full batch: more entries may be due already."""
    last_error: str | None = None
    """Why the round's last failed attempt failed (exception type and message)."""
    dead: tuple[DeadLetter, ...] = ()
    """The e-mails whose last allowed attempt failed in this round."""


def backoff(attempts: int, base: timedelta, ceiling: timedelta) -> timedelta:
    """Exponential: base, 2*base, 4*base... capped, so a long outage is retried calmly.

    The exponent is clamped before multiplying, at the first doubling that reaches the
    ceiling: ``base * 2**n`` would overflow timedelta after a few dozen attempts (about
    eight hours of outage at the defaults) and crash the dispatcher exactly when it should
    keep retrying. (A fixed clamp of 32 doublings still overflowed for a base over 5.6 hours.)
    """
    exponent = min(max(attempts - 1, 0), (ceiling // base).bit_length())
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

    An entry whose ``max_attempts``-th attempt fails is marked dead instead of being
    rescheduled: a mail server that refuses one address for days, or a setting that is
    wrong, must not keep the outbox busy forever. The round reports it in ``dead`` (the
    dispatcher logs it); an operator can put it back (``RetryOutbox``).
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
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if retry_base <= timedelta(0):
            raise ValueError("retry_base must be positive")
        self._uow = uow
        self._notifier = notifier
        self._clock = clock
        self._batch_size = batch_size
        self._lease = lease
        self._retry_base = retry_base
        self._retry_ceiling = retry_ceiling
        self._max_attempts = max_attempts

    async def __call__(self) -> Delivery:
        claimed_at = self._clock.now()
        async with self._uow as uow:
            entries = await uow.outbox.claim_due(claimed_at, self._batch_size, self._lease)
            await uow.commit()
        send_until = claimed_at + self._lease / 2
        sent = failed = 0
        last_error: str | None = None
        dead: list[DeadLetter] = []
        for entry in entries:
            if self._clock.now() >= send_until:
                break
            try:
                await self._notifier.send(entry.message)
            except Exception as exc:  # any failure of the mail path must be retried later
                failed += 1
                last_error = f"{type(exc).__name__}: {exc}"
                attempts = entry.attempts + 1
                async with self._uow as uow:
                    if attempts >= self._max_attempts:
                        await uow.outbox.mark_dead(entry.id, last_error, self._clock.now())
                        dead.append(DeadLetter.of(entry, attempts, last_error))
                    else:
                        delay = backoff(attempts, self._retry_base, self._retry_ceiling)
                        await uow.outbox.mark_failed(
                            entry.id, last_error, self._clock.now() + delay
                        )
                    await uow.commit()
            else:
                sent += 1
                async with self._uow as uow:
                    await uow.outbox.mark_sent(entry.id, self._clock.now())
                    await uow.commit()
        return Delivery(
            sent=sent,
            failed=failed,
            more_due=len(entries) == self._batch_size,
            last_error=last_error,
            dead=tuple(dead),
        )
