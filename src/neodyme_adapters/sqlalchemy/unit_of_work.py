"""The unit of work: one ``AsyncSession`` and its transaction per ``async with``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neodyme_adapters.sqlalchemy.engine import within
from neodyme_adapters.sqlalchemy.errors import is_unavailable
from neodyme_adapters.sqlalchemy.repositories import (
    SqlAlchemyEventRecorder,
    SqlAlchemyLoginThrottle,
    SqlAlchemyOneTimeTokenStore,
    SqlAlchemyOutbox,
    SqlAlchemyRefreshTokenStore,
    SqlAlchemyUserRepository,
)
from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.ports import UnitOfWork

logger = logging.getLogger(__name__)


def _unavailable(error: BaseException) -> ServiceUnavailable:
    # Only the error's class goes into the context: its text may quote SQL and data.
    return ServiceUnavailable(context={"cause": type(error).__name__})


class SqlAlchemyUnitOfWork:
    """A transaction over a database; see ``neodyme_domain.ports.UnitOfWork``.

    Each ``async with`` opens a new session, whose transaction begins with its first
    statement; ``commit()`` commits it (statements after a commit in the same block run in
    a new transaction); leaving the block rolls back whatever was not committed and
    returns the connection to the pool. The object may be entered again after it was left,
    but not while it is in use (one object, one transaction at a time).

    ``after_commit`` is called after a commit whose transaction queued an e-mail
    (``outbox.add``): the app uses it to wake its e-mail dispatcher.

    Database connectivity failures, raised inside the block or by ``commit()``, become
    ``ServiceUnavailable`` with the original chained as ``__cause__``. With
    ``connect_timeout``, entering the block checks a connection out at once and gives up
    with ``ServiceUnavailable`` after that many seconds, however the wait is spent (a full
    pool, a connect, the pre-ping of a pooled connection to a server gone silent).
    """

    users: SqlAlchemyUserRepository
    refresh_tokens: SqlAlchemyRefreshTokenStore
    outbox: SqlAlchemyOutbox
    events: SqlAlchemyEventRecorder
    one_time_tokens: SqlAlchemyOneTimeTokenStore
    throttle: SqlAlchemyLoginThrottle

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        after_commit: Callable[[], None] | None = None,
        *,
        connect_timeout: float | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._after_commit = after_commit
        self._connect_timeout = connect_timeout
        self._session: AsyncSession | None = None
        self._outbox_touched = False

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use: build one per transaction")
        session = self._sessionmaker()
        if self._connect_timeout is not None:
            await self._connect(session, self._connect_timeout)
        self._session = session
        self._outbox_touched = False
        self.users = SqlAlchemyUserRepository(session)
        self.refresh_tokens = SqlAlchemyRefreshTokenStore(session)
        self.outbox = SqlAlchemyOutbox(session, on_add=self._note_outbox_add)
        self.events = SqlAlchemyEventRecorder(session)
        self.one_time_tokens = SqlAlchemyOneTimeTokenStore(session)
        self.throttle = SqlAlchemyLoginThrottle(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            await session.close()  # rolls back what was not committed
        except Exception as close_error:
            if exc is None:
                if is_unavailable(close_error):
                    raise _unavailable(close_error) from close_error
                raise
            # The error that left the block says more than a failed cleanup after it.
            logger.warning("closing the session after an error failed", exc_info=close_error)
        if exc is not None and is_unavailable(exc):
            raise _unavailable(exc) from exc

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside of 'async with'")
        try:
            await self._session.commit()
        except Exception as error:
            if is_unavailable(error):
                raise _unavailable(error) from error
            raise
        wake, self._outbox_touched = self._outbox_touched, False
        if wake and self._after_commit is not None:
            try:
                self._after_commit()
            except Exception:
                # The commit is durable; a failed wake-up only delays delivery until the
                # dispatcher's next timed run, so it must not look like a failed commit.
                logger.exception("after_commit callback failed")

    @staticmethod
    async def _connect(session: AsyncSession, seconds: float) -> None:
        """Check out the session's connection (pool wait, connect, pre-ping) within
        ``seconds``, or raise ``ServiceUnavailable``: an unreachable database must not
        hold a request for a TCP timeout (see ``within``)."""
        try:
            await within(seconds, session.connection(), after_abandon=session.close)
        except TimeoutError as error:  # ``within`` closes the session once the checkout ends
            raise ServiceUnavailable(context={"cause": "timeout"}) from error
        except Exception as error:  # the checkout failed and is over: the session is idle
            with contextlib.suppress(Exception):
                await session.close()
            if is_unavailable(error):
                raise _unavailable(error) from error
            raise

    def _note_outbox_add(self) -> None:
        self._outbox_touched = True


if TYPE_CHECKING:
    # mypy proves here, once, that the adapter fits the port the use cases are written for.
    _checked: type[UnitOfWork] = SqlAlchemyUnitOfWork
