"""The hasher, and with it the dummy hash for unknown addresses, is built when the app
starts: the first unknown-address login of a process then costs one verify, like a wrong
password, and not a hash on top. Counted through the hasher's stats, not timed."""

from __future__ import annotations

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_app.config import Environment, Settings
from neodyme_app.container import build_container
from neodyme_app.http import create_app


async def test_the_app_builds_the_hasher_at_start_and_an_unknown_login_costs_no_hash() -> None:
    container = build_container(
        Settings(
            environment=Environment.TESTING,
            database_url="memory://",
            secret_key="unit-tests-secret-key-of-at-least-32-bytes",
            docs=False,
        )
    )
    built: list[Argon2Hasher] = []

    def real_hasher() -> Argon2Hasher:  # the real adapter; the list only records when
        built.append(Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1))
        return built[-1]

    container.hasher.override(providers.Singleton(real_hasher))

    async with AsyncTestClient(app=create_app(container)) as client:
        assert len(built) == 1  # at start, before any request
        response = await client.post(
            "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "Guess123!x"}
        )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert built[0].hashes_computed == 1  # the dummy, made at start; the login only verified
