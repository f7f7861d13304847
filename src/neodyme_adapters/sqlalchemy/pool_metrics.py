"""What the connection pool tells the service's metrics: connections in use, and the
checkouts that found every connection taken and had to wait for one.

SQLAlchemy's pool events say when a connection is checked out and in, not that a checkout
is waiting, so the unit of work asks ``must_wait`` before it checks one out.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool


class PoolObserver(Protocol):
    """Told about the pool of one engine; it only records, never blocks or raises."""

    def pool_limits(self, size: int) -> None: ...

    def connections_in_use(self, count: int) -> None: ...

    def pool_waited(self, seconds: float) -> None:
        """A checkout found no free connection and got one after ``seconds`` (its liveness
        check included), or gave up."""


def observe_pool(engine: AsyncEngine, observer: PoolObserver) -> None:
    """Report the pool's size now and its connections in use at every checkout and check-in
    (the pool's own count, so a missed event cannot make the figure drift)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return
    observer.pool_limits(pool.size())

    def checked_out(*_: Any) -> None:
        observer.connections_in_use(pool.checkedout())

    def checked_in(*_: Any) -> None:
        # The event comes before the connection is back in the pool: still counted there.
        observer.connections_in_use(pool.checkedout() - 1)

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)


def must_wait(engine: AsyncEngine) -> bool:
    """True if a checkout now would wait for a connection to come back: all are in use
    (``make_engine`` allows no overflow beyond ``pool_size``)."""
    pool = engine.sync_engine.pool
    return isinstance(pool, QueuePool) and pool.checkedout() >= pool.size()
