"""Which database errors mean "the database cannot serve us right now".

Those become the domain's ``ServiceUnavailable`` (a 503, "please retry"); every other
database error stays what it is, so a bug or a missing migration (SQLite reports "no such
table" as an OperationalError too) is not disguised as an outage.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

# PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources
# (too many connections, disk full), 57 operator intervention (shutdown, cannot connect
# now, statement timeout), 40 transaction rollback (serialization failure, deadlock: the
# server aborted the transaction and a retry is the right answer), 55P03 lock timeout.
_PG_UNAVAILABLE_PREFIXES = ("08", "53", "57", "40", "55P03")

# SQLite result codes (extended names start with the primary one, e.g. SQLITE_IOERR_WRITE).
_SQLITE_UNAVAILABLE_PREFIXES = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_PROTOCOL",
)


def is_unavailable(error: BaseException) -> bool:
    """True if ``error`` says the database is unreachable, overloaded or shutting down."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection became free in time
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    orig = error.orig
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        return sqlite_name.startswith(_SQLITE_UNAVAILABLE_PREFIXES)
    if hasattr(orig, "sqlstate"):
        sqlstate = getattr(orig, "sqlstate", None)
        # psycopg raises client-side failures (refused, reset, closed) without a SQLSTATE.
        return sqlstate is None or str(sqlstate).startswith(_PG_UNAVAILABLE_PREFIXES)
    return True  # another driver: an OperationalError is about the connection by PEP 249
