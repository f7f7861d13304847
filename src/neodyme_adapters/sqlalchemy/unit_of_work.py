"""The unit of work: one pooled ``AsyncConnection`` and its transaction per ``async with``.

A Core connection, not an ORM ``AsyncSession``: the adapters only run Core statements, and
the session's bookkeeping (identity map, state machine) cost more CPU than the SELECT
itself on the hottest path, the per-request revocation check (bench/revocation_cost.py).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from neodyme_adapters.sqlalchemy.engine import SQLITE_BEGIN_MODE, within
from neodyme_adapters.sqlalchemy.errors import is_unavailable
from neodyme_adapters.sqlalchemy.federation import (
    SqlAlchemyFederationRequestStore,
    SqlAlchemyLinkedIdentityStore,
)
from neodyme_adapters.sqlalchemy.mfa import (
    SqlAlchemyMfaChallengeStore,
    SqlAlchemyRecoveryCodeStore,
    SqlAlchemyTotpStore,
)
from neodyme_adapters.sqlalchemy.passkeys import (
    SqlAlchemyPasskeyStore,
    SqlAlchemyWebAuthnChallengeStore,
)
from neodyme_adapters.sqlalchemy.pool_metrics import PoolObserver, must_wait
from neodyme_adapters.sqlalchemy.repositories import (
    SqlAlchemyEventRecorder,
    SqlAlchemyLoginThrottle,
    SqlAlchemyOneTimeTokenStore,
    SqlAlchemyOutbox,
    SqlAlchemyRefreshTokenStore,
    SqlAlchemyUserRepository,
)
from neodyme_adapters.sqlalchemy.sessions import SqlAlchemySessionStore
from neodyme_adapters.sqlalchemy.tokens import SqlAlchemySigningKeyStore
from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.ports import UnitOfWork

logger = logging.getLogger(__name__)


def _unavailable(error: BaseException) -> ServiceUnavailable:
    # Only the error's class goes into the context: its text may quote SQL and data.
    return ServiceUnavailable(context={"cause": type(error).__name__})


READ_ONLY_OPTIONS: dict[str, dict[str, str]] = {
    # No BEGIN and ROLLBACK round trips around a single SELECT.
    "postgresql": {"isolation_level": "AUTOCOMMIT"},
    # A deferred transaction reads beside other readers and writers (WAL) instead of
    # queueing for the write lock that every other transaction takes up front.
    "sqlite": {SQLITE_BEGIN_MODE: "DEFERRED"},
}


class SqlAlchemyUnitOfWork:
    """A transaction over a database; see ``neodyme_domain.ports.UnitOfWork``.

    Each ``async with`` checks out a connection, whose transaction begins with its first
    statement; ``commit()`` commits it (statements after a commit in the same block run in
    a new transaction); leaving the block rolls back whatever was not committed and
    returns the connection to the pool. The object may be entered again after it was left,
    but not while it is in use (one object, one transaction at a time).

    ``read_only`` units of work are for use cases that only read (the per-request token
    check above all): they cannot commit, and they skip what only writers need (see
    ``READ_ONLY_OPTIONS``).

    ``after_commit`` is called after a commit whose transaction queued an e-mail
    (``outbox.add``): the app uses it to wake its e-mail dispatcher.

    Database connectivity failures, raised inside the block or by ``commit()``, become
    ``ServiceUnavailable`` with the original chained as ``__cause__``. With
    ``connect_timeout``, entering the block checks a connection out at once and gives up
    with ``ServiceUnavailable`` after that many seconds, however the wait is spent (a full
    pool, a connect, the pre-ping of a pooled connection to a server gone silent).

    ``pool_observer`` (the metrics) is told how long a checkout waited that found every
    pooled connection in use.
    """

    users: SqlAlchemyUserRepository
    refresh_tokens: SqlAlchemyRefreshTokenStore
    outbox: SqlAlchemyOutbox
    events: SqlAlchemyEventRecorder
    one_time_tokens: SqlAlchemyOneTimeTokenStore
    throttle: SqlAlchemyLoginThrottle
    sessions: SqlAlchemySessionStore
    totp: SqlAlchemyTotpStore
    recovery_codes: SqlAlchemyRecoveryCodeStore
    mfa_challenges: SqlAlchemyMfaChallengeStore
    passkeys: SqlAlchemyPasskeyStore
    webauthn_challenges: SqlAlchemyWebAuthnChallengeStore
    signing_keys: SqlAlchemySigningKeyStore
    linked_identities: SqlAlchemyLinkedIdentityStore
    federation_requests: SqlAlchemyFederationRequestStore

    def __init__(
        self,
        engine: AsyncEngine,
        after_commit: Callable[[], None] | None = None,
        *,
        connect_timeout: float | None = None,
        read_only: bool = False,
        pool_observer: PoolObserver | None = None,
    ) -> None:
        self._engine = engine
        self._pool_observer = pool_observer
        self._after_commit = after_commit
        self._connect_timeout = connect_timeout
        self._read_only = read_only
        self._connection: AsyncConnection | None = None
        self._outbox_touched = False

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use: build one per transaction")
        connection = self._engine.connect()
        observer = self._pool_observer
        waits = observer is not None and must_wait(self._engine)
        started = time.perf_counter()
        try:
            await self._connect(connection, self._connect_timeout)
        finally:
            if waits and observer is not None:
                observer.pool_waited(time.perf_counter() - started)
        if self._read_only:
            await connection.execution_options(**READ_ONLY_OPTIONS[connection.dialect.name])
        self._connection = connection
        self._outbox_touched = False
        self.users = SqlAlchemyUserRepository(connection)
        self.refresh_tokens = SqlAlchemyRefreshTokenStore(connection)
        self.outbox = SqlAlchemyOutbox(connection, on_add=self._note_outbox_add)
        self.events = SqlAlchemyEventRecorder(connection)
        self.one_time_tokens = SqlAlchemyOneTimeTokenStore(connection)
        self.throttle = SqlAlchemyLoginThrottle(connection)
        self.sessions = SqlAlchemySessionStore(connection)
        self.totp = SqlAlchemyTotpStore(connection)
        self.recovery_codes = SqlAlchemyRecoveryCodeStore(connection)
        self.mfa_challenges = SqlAlchemyMfaChallengeStore(connection)
        self.passkeys = SqlAlchemyPasskeyStore(connection)
        self.webauthn_challenges = SqlAlchemyWebAuthnChallengeStore(connection)
        self.signing_keys = SqlAlchemySigningKeyStore(connection)
        self.linked_identities = SqlAlchemyLinkedIdentityStore(connection)
        self.federation_requests = SqlAlchemyFederationRequestStore(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.close()  # rolls back what was not committed
        except Exception as close_error:
            if exc is None:
                if is_unavailable(close_error):
                    raise _unavailable(close_error) from close_error
                raise
            # The error that left the block says more than a failed cleanup after it.
            logger.warning("closing the connection after an error failed", exc_info=close_error)
        if exc is not None and is_unavailable(exc):
            raise _unavailable(exc) from exc

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside of 'async with'")
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        try:
            await self._connection.commit()
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
    async def _connect(connection: AsyncConnection, seconds: float | None) -> None:
        """Check out the connection (pool wait, connect, pre-ping), within ``seconds`` if
        given, or raise ``ServiceUnavailable``: an unreachable database must not hold a
        request for a TCP timeout (see ``within``)."""
        try:
            if seconds is None:
                await connection.start()
            else:
                await within(seconds, connection.start(), after_abandon=connection.close)
        except TimeoutError as error:  # ``within`` closes the connection once checkout ends
            raise ServiceUnavailable(context={"cause": "timeout"}) from error
        except Exception as error:  # the checkout failed and is over
            with contextlib.suppress(Exception):
                await connection.close()
            if is_unavailable(error):
                raise _unavailable(error) from error
            raise

    def _note_outbox_add(self) -> None:
        self._outbox_touched = True


if TYPE_CHECKING:
    # mypy proves here, once, that the adapter fits the port the use cases are written for.
    _checked: type[UnitOfWork] = SqlAlchemyUnitOfWork
