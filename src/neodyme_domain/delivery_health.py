"""Whether e-mail delivery works, told the way an operator wants to hear it.

A mail server that refuses every message makes each dispatcher round fail, several times a
second under load, for hours. The log must say so at once, then keep quiet apart from an
occasional reminder, and say when it is over. This is that decision, kept apart from the
dispatcher's loop so that it can be tested with explicit times, and kept free of I/O: the
caller logs what it returns.

Two states. **healthy** -> **failing** on the first failed attempt (a ``"failing"``
change). While failing, further failures are told again only as a reminder
(``remind_every``) or when the reason changes (at most once per ``min_gap``, so that two
alternating reasons cannot flood the log). **failing** -> **healthy** when the caller
``cleared`` it: it knows best when nothing that failed is left waiting (the dispatcher
asks the outbox after a round that sent e-mails and failed none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["DeliveryHealth", "HealthChange", "HealthEvent"]


class HealthEvent(StrEnum):
    FAILING = "failing"
    """Delivery went from working to failing."""
    STILL_FAILING = "still_failing"
    """A reminder, or a new reason, while delivery keeps failing."""
    RECOVERED = "recovered"
    """Nothing that failed is waiting any more."""


@dataclass(frozen=True, slots=True)
class HealthChange:
    event: HealthEvent
    reason: str
    """The latest failure's reason (for ``recovered``: the last one before recovering)."""
    failing_since: datetime


class DeliveryHealth:
    def __init__(
        self,
        *,
        remind_every: timedelta = timedelta(minutes=15),
        min_gap: timedelta = timedelta(minutes=1),
    ) -> None:
        self._remind_every = remind_every
        self._min_gap = min_gap
        self._failing_since: datetime | None = None
        # Read only while failing, and the failure that starts it sets all three first.
        self._told_at: datetime | None = None  # pragma: no mutate (equivalent: set before read)
        self._told_reason = ""  # pragma: no mutate (equivalent: set before read)
        self._last_reason = ""  # pragma: no mutate (equivalent: set before read)

    @property
    def failing(self) -> bool:
        return self._failing_since is not None

    def failed(self, now: datetime, reason: str) -> HealthChange | None:
        """An attempt failed for ``reason``: the change to tell, if any."""
        self._last_reason = reason
        if self._failing_since is None:
            self._failing_since = now
            return self._tell(HealthEvent.FAILING, now, reason)
        assert self._told_at is not None
        quiet_for = now - self._told_at
        if quiet_for >= self._remind_every or (
            reason != self._told_reason and quiet_for >= self._min_gap
        ):
            return self._tell(HealthEvent.STILL_FAILING, now, reason)
        return None

    def cleared(self, now: datetime) -> HealthChange | None:
        """Nothing that failed is waiting any more: ``recovered`` if delivery was failing."""
        since = self._failing_since
        if since is None:
            return None
        self._failing_since = self._told_at = None
        return HealthChange(HealthEvent.RECOVERED, self._last_reason, since)

    def _tell(self, event: HealthEvent, now: datetime, reason: str) -> HealthChange:
        assert self._failing_since is not None
        self._told_at = now
        self._told_reason = reason
        return HealthChange(event, reason, self._failing_since)
