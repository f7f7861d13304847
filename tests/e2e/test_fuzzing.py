"""API fuzzing: schemathesis against the OpenAPI document the real server serves, with
every check it has, over every operation.

Each operation gets requests that fit its document and requests that do not, from
schemathesis's coverage phase (boundaries, missing and extra fields, wrong types and
content types, undeclared methods) and its fuzzing phase (``NEODYME_FUZZ_EXAMPLES`` per
operation and mode, 100 by default). Every response must be documented (status, content
type, headers, body), never a 5xx; invalid requests must be refused and valid ones taken;
a route that names the bearer scheme must refuse a request without a valid token. A
failure names the check and prints a curl command that reproduces it.

The bounded run here is part of ``make test``; ``make fuzz`` runs this module with many
more examples. ``NEODYME_FUZZ_SEED`` replays a run: the seed is printed with a failure.

The fuzzer connects from 127.0.0.2 where it can: the server counts failed logins per
client address, and the fuzzer's thousands must not lock out 127.0.0.1, where the other
e2e tests come from.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from requests.adapters import HTTPAdapter
from schemathesis import AuthContext, Case
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.e2e.api import PASSWORD, Cli, bearer
from tests.e2e.conftest import Server
from tests.e2e.secret_log import SecretLog

EXAMPLES = int(os.environ.get("NEODYME_FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("NEODYME_FUZZ_SEED") or random.randrange(2**32))
FUZZER_ADDRESS = "127.0.0.2"
API = "/api/v1"
USER = f"{API}/users/{{user_id}}"
ADMIN_PATHS = (f"{API}/users", USER)
"""Fuzzed as a superuser: anyone else gets 403 there, whatever the request."""
LISTINGS = (f"{API}/users", f"{API}/users/me/events")

DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
"""What schemathesis's positive_data_acceptance check lets a valid request get."""
VALID_BUT_REFUSED = {
    # The password policy is a setting (the book's rules or NIST's): 400 WEAK_PASSWORD.
    f"{API}/auth/register": ["400"],
    f"{API}/auth/change-password": ["400"],
    # A one-time token is valid only if the server e-mailed it: 400 INVALID_TOKEN.
    f"{API}/auth/reset-password": ["400"],
    f"{API}/auth/verify": ["400"],
}
"""Operations where a request the document calls valid may also get a 400: what decides
is a setting or server state that no schema can say."""


def fuzzing_config() -> SchemathesisConfig:
    """schemathesis's defaults (every check on, for every operation, every phase that
    applies to a single operation), plus the answers of ``VALID_BUT_REFUSED``."""
    operations = [
        {
            "include-path": path,
            "checks": {"positive_data_acceptance": {"expected-statuses": DEFAULT_ACCEPTED + extra}},
        }
        for path, extra in VALID_BUT_REFUSED.items()
    ]
    return SchemathesisConfig.from_dict({"seed": SEED, "operations": operations})


class FromAddress(HTTPAdapter):
    """Connections from a given local address (any 127.x.y.z reaches the loopback)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _can_bind(address: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Fuzzer:
    session: requests.Session
    user_token: str
    admin_token: str
    cursors: dict[str, str]
    """A cursor the server issued, for each listing (path -> cursor)."""
    target_id: str
    """An account of the fuzzer's own that the superuser may read, deactivate, reactivate."""

    def token_for(self, operation: APIOperation) -> str | None:
        """The bearer token for an operation that names a security scheme."""
        if not operation.definition.raw.get("security"):
            return None
        return self.admin_token if operation.path in ADMIN_PATHS else self.user_token


def _access_token(client: httpx.Client, email: str) -> str:
    response = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _issued_cursor(client: httpx.Client, path: str, token: str) -> str:
    response = client.get(path, params={"limit": 1}, headers=bearer(token))
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert cursor, f"GET {path}?limit=1 gave no next page: {response.text}"
    return str(cursor)


@pytest.fixture(scope="module")
def fuzzer(server: Server, cli: Cli, secret_log: SecretLog) -> Iterator[Fuzzer]:
    """A user and a superuser, logged in; an account to administer; a cursor of each
    listing; an HTTP session from the fuzzer's own address."""
    print(f"NEODYME_FUZZ_SEED={SEED} NEODYME_FUZZ_EXAMPLES={EXAMPLES}")
    tag = uuid.uuid4().hex[:8]
    user_email, admin_email = f"fuzz-{tag}@example.com", f"fuzz-admin-{tag}@example.com"
    secret_log.add("fuzzer password", PASSWORD)
    created = asyncio.run(cli.create_user(admin_email, "Fuzz Admin", PASSWORD, superuser=True))
    assert created.returncode == 0, created.stderr
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        registered = client.post(
            f"{API}/auth/register",
            json={"email": user_email, "full_name": "Fuzz User", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        target = client.post(
            f"{API}/auth/register",
            json={
                "email": f"fuzz-target-{tag}@example.com",
                "full_name": "T",
                "password": PASSWORD,
            },
        )
        assert target.status_code == 201, target.text
        user, admin = _access_token(client, user_email), _access_token(client, admin_email)
        cursors = {
            f"{API}/users": _issued_cursor(client, f"{API}/users", admin),
            f"{API}/users/me/events": _issued_cursor(client, f"{API}/users/me/events", user),
        }
    for token in (user, admin):
        secret_log.add("fuzzer access token", token)
    session = requests.Session()
    session.trust_env = False  # a proxy configured in the environment must not sit in between
    if _can_bind(FUZZER_ADDRESS):
        session.mount("http://", FromAddress(FUZZER_ADDRESS))
    with session:
        yield Fuzzer(session, user, admin, cursors, target.json()["user"]["id"])


@pytest.fixture(scope="module")
def served_schema(server: Server, fuzzer: Fuzzer) -> OpenApiSchema:
    """The document the server serves, with the fuzzer's tokens as its credentials."""
    loaded = schemathesis.openapi.from_url(
        f"{server.base_url}/schema/openapi.json", config=fuzzing_config(), timeout=30
    )

    class BearerTokens:
        """Sent on every operation that names the scheme, except in the requests that
        test what the server does without it (those get invalid or no credentials)."""

        def get(self, case: Case, ctx: AuthContext) -> str | None:
            return fuzzer.token_for(ctx.operation)

        def set(self, case: Case, data: str, ctx: AuthContext) -> None:
            case.headers = {**(case.headers or {}), **bearer(data)}

    loaded.auth(refresh_interval=None)(BearerTokens)
    return loaded


schema = schemathesis.pytest.from_fixture("served_schema")


def use_what_exists(case: Case, fuzzer: Fuzzer) -> None:
    """A valid request, in the fuzzer's hands, names what exists where the document can
    only give a type: a cursor is one the server issued, and half the user ids (by the
    parity of the one drawn) are an account's, so that reading and administering one is
    fuzzed too, not only 404."""
    if case.path in LISTINGS and (case.query or {}).get("cursor") is not None:
        case.query["cursor"] = fuzzer.cursors[case.path]
    if case.path == USER and _odd((case.path_parameters or {}).get("user_id")):
        case.path_parameters["user_id"] = fuzzer.target_id


def _odd(user_id: object) -> bool:
    try:
        return bool(uuid.UUID(str(user_id)).int % 2)
    except ValueError:
        return False


# schemathesis 4.32 renames the subtest of each operation through a node attribute that
# pytest 9.2 no longer has; without this, the test errors before it starts.
if not hasattr(pytest.Function, "_nodeid"):
    pytest.Function._nodeid = property(  # type: ignore[attr-defined]
        lambda node: node.nodeid, lambda node, value: None
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,  # a real server on a busy machine: latency is not what this measures
    database=None,  # nothing written to .hypothesis/ in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_response_is_documented(case: Case, fuzzer: Fuzzer, server: Server) -> None:
    if case.meta is not None and case.meta.generation.mode.is_positive:
        use_what_exists(case, fuzzer)
    case.call_and_validate(base_url=server.base_url, session=fuzzer.session)
