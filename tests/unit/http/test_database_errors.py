"""What the HTTP layer answers for each kind of database error. The unit of work has made
an outage the domain's ``ServiceUnavailable`` and left any other database error as it was
(tests/contract/test_database_errors.py, with the drivers' real errors); here a use case
raises what it would, and the client gets 503 with Retry-After ("retry") for the first
and a bare 500 ("a bug", the request id to quote, nothing of the SQL) for the rest."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg.errors
import pytest
from dependency_injector import providers
from sqlalchemy import exc as sa_exc

from neodyme_app.container import Container
from neodyme_domain.errors import ServiceUnavailable
from tests.unit.http.conftest import PASSWORD

REGISTER = "/api/v1/auth/register"
STATEMENT = "INSERT INTO users (id, email, hashed_password) VALUES (?, ?, ?)"


def sqlite_error(name: str, message: str) -> sa_exc.OperationalError:
    orig = sqlite3.OperationalError(message)
    orig.sqlite_errorname = name
    return sa_exc.OperationalError(STATEMENT, {}, orig)


def postgres_error(sqlstate: str, wrapper: type[sa_exc.DBAPIError]) -> sa_exc.DBAPIError:
    orig = psycopg.errors.lookup(sqlstate)(f"error {sqlstate} on relation users")
    return wrapper(STATEMENT, {}, orig)


def outage(cause: Exception) -> ServiceUnavailable:
    """What the unit of work raises for an outage: the domain's error, caused by it."""
    unavailable = ServiceUnavailable(context={"cause": type(cause).__name__})
    unavailable.__cause__ = cause
    return unavailable


class Raising:
    """A use case failing as a unit of work inside it would."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def __call__(self, command: object) -> None:
        raise self.error


async def register_failing_with(client: Any, container: Container, error: Exception) -> Any:
    container.register_user.override(providers.Object(Raising(error)))
    body = {"email": "db@example.com", "full_name": "Dee Bee", "password": PASSWORD}
    return await client.post(REGISTER, json=body)


@pytest.mark.parametrize(
    "error",
    [
        outage(sqlite_error("SQLITE_BUSY", "database is locked")),
        outage(postgres_error("57P01", sa_exc.OperationalError)),
        outage(sa_exc.TimeoutError("QueuePool limit of size 10 overflow 0 reached")),
    ],
    ids=["sqlite locked", "postgres shutting down", "no pooled connection in time"],
)
async def test_an_outage_is_503_with_retry_after(
    client: Any, container: Container, error: Exception
) -> None:
    response = await register_failing_with(client, container, error)

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    body = response.json()["error"]
    assert (body["code"], body["details"]) == ("SERVICE_UNAVAILABLE", {"retry_after": 1})


@pytest.mark.parametrize(
    "error",
    [
        sqlite_error("SQLITE_ERROR", "no such table: users"),
        postgres_error("42P01", sa_exc.ProgrammingError),
        postgres_error("23505", sa_exc.IntegrityError),
        postgres_error("XX000", sa_exc.InternalError),
    ],
    ids=["sqlite missing table", "postgres missing table", "unique violation", "internal"],
)
async def test_any_other_database_error_is_a_bare_500(
    client: Any, container: Container, error: Exception
) -> None:
    response = await register_failing_with(client, container, error)

    assert response.status_code == 500, response.text
    assert "retry-after" not in response.headers
    body = response.json()["error"]
    assert (body["code"], body["details"]) == ("INTERNAL_ERROR", {})
    assert body["message"] == f"Internal error (request id {body['request_id']})"
    assert "users" not in response.text, "nothing of the statement or the error is shown"
