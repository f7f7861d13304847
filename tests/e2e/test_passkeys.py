"""Passkeys over the real server, on both databases, without a browser: a software
authenticator (tests/support/authenticator.py) answers the options the server sends, as
a phone or a laptop would, and is made wrong on purpose for the failure table."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.pool import NullPool

from neodyme_adapters.sqlalchemy import tables
from tests.e2e.api import PASSWORD, Api, Mailbox, bearer, expect, expect_error, unique_email
from tests.e2e.backends import cli, database, server
from tests.e2e.conftest import Server
from tests.e2e.test_two_factor import enrolled
from tests.support.authenticator import SoftAuthenticator
from tests.support.server import PUBLIC_URL

__all__ = ["cli", "database", "server"]

PASSKEYS = "/api/v1/auth/passkeys"


async def post(
    api: Api, path: str, body: dict[str, Any], token: str | None = None
) -> httpx.Response:
    return await api.client.post(
        f"{PASSKEYS}/{path}", json=body, headers=bearer(token) if token else {}
    )


async def register_options(api: Api, token: str) -> dict[str, Any]:
    options: dict[str, Any] = expect(
        await post(api, "register/options", {"password": PASSWORD}, token), 200
    )
    return options


async def add_passkey(
    api: Api, token: str, authenticator: SoftAuthenticator, name: str | None = None
) -> dict[str, Any]:
    answer = authenticator.create(await register_options(api, token))
    body: dict[str, Any] = {"credential": answer} | ({"name": name} if name else {})
    passkey: dict[str, Any] = expect(await post(api, "register/verify", body, token), 201)
    return passkey


async def sign_in_options(api: Api, mfa_token: str | None = None) -> dict[str, Any]:
    body = {"mfa_token": mfa_token} if mfa_token else {}
    options: dict[str, Any] = expect(await post(api, "login/options", body), 200)
    return options


async def sign_in(api: Api, answer: dict[str, Any]) -> httpx.Response:
    return await post(api, "login/verify", {"credential": answer})


async def my_passkeys(api: Api, token: str) -> list[dict[str, Any]]:
    listed = expect(await api.client.get("/api/v1/users/me/passkeys", headers=bearer(token)), 200)
    items: list[dict[str, Any]] = listed["items"]
    return items


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    """A user's device, on a page of the server's public URL."""
    return SoftAuthenticator(origin=PUBLIC_URL)


async def test_add_a_passkey_sign_in_with_it_rename_and_remove_it(
    api: Api, mailbox: Mailbox, authenticator: SoftAuthenticator
) -> None:
    email = unique_email("passkey")
    token = (await api.signed_up(email))["access_token"]

    options = await register_options(api, token)
    assert options["rp"]["id"] == "app.neodyme.test"
    assert options["user"]["name"] == email
    passkey = await add_passkey(api, token, authenticator, "Laptop")
    assert passkey["name"] == "Laptop"
    assert passkey["last_used_at"] is None
    await mailbox.wait_for("passkey_added", email)

    signed_in = expect(await sign_in(api, authenticator.get(await sign_in_options(api))), 200)
    assert signed_in["user"]["email"] == email
    assert expect(await api.me(signed_in["access_token"]), 200)["email"] == email
    [listed] = await my_passkeys(api, token)
    assert listed["id"] == passkey["id"]
    assert listed["last_used_at"] is not None

    path = f"/api/v1/users/me/passkeys/{passkey['id']}"
    renamed = await api.client.patch(path, json={"name": "Work laptop"}, headers=bearer(token))
    assert expect(renamed, 200)["name"] == "Work laptop"
    removed = await api.client.delete(path, headers=bearer(token))
    assert removed.status_code == 204, removed.text
    notice = await mailbox.wait_for("passkey_removed", email)
    assert "Work laptop" in notice.get_content()
    assert await my_passkeys(api, token) == []
    refused = await sign_in(api, authenticator.get(await sign_in_options(api)))
    expect_error(refused, 401, "PASSKEY_REFUSED")
    expect_error(await api.client.delete(path, headers=bearer(token)), 404, "PASSKEY_NOT_FOUND")


async def test_a_passkey_is_a_second_factor_too(
    api: Api, mailbox: Mailbox, authenticator: SoftAuthenticator
) -> None:
    email = unique_email("passkey-mfa")
    session, _, _ = await enrolled(api, mailbox, email)
    await add_passkey(api, session["access_token"], authenticator)

    asked = expect_error(await api.login(email), 401, "MFA_REQUIRED")
    assert asked["details"]["methods"] == ["totp", "recovery_codes", "passkey"]
    options = await sign_in_options(api, asked["details"]["mfa_token"])
    assert len(options["allowCredentials"]) == 1
    signed_in = expect(await sign_in(api, authenticator.get(options)), 200)
    assert signed_in["user"]["email"] == email
    spent = await api.mfa("verify", {"mfa_token": asked["details"]["mfa_token"], "code": "123456"})
    expect_error(spent, 401, "INVALID_TOKEN")


async def test_another_accounts_passkey_is_none_of_yours(
    api: Api, authenticator: SoftAuthenticator
) -> None:
    owner = (await api.signed_up(unique_email("passkey-owner")))["access_token"]
    other = (await api.signed_up(unique_email("passkey-other")))["access_token"]
    passkey = await add_passkey(api, owner, authenticator)
    path = f"/api/v1/users/me/passkeys/{passkey['id']}"
    expect_error(await api.client.delete(path, headers=bearer(other)), 404, "PASSKEY_NOT_FOUND")
    expect_error(
        await api.client.patch(path, json={"name": "Mine"}, headers=bearer(other)),
        404,
        "PASSKEY_NOT_FOUND",
    )
    assert await my_passkeys(api, other) == []


def _expire_challenges(server: Server) -> None:
    """Five minutes pass for every challenge in flight (the server's clock is the
    machine's: the test moves the challenges' expiry instead of waiting)."""
    url = server.env["NEODYME_DATABASE_URL"].replace("+aiosqlite", "").replace("+psycopg", "")
    engine = create_engine(url, poolclass=NullPool)
    challenges = tables.webauthn_challenges
    with engine.begin() as connection:
        connection.execute(update(challenges).values(expires_at=challenges.c.created_at))
    engine.dispose()


async def test_the_registration_failure_table(
    api: Api, server: Server, authenticator: SoftAuthenticator
) -> None:
    """Each wrong registration is a 4xx in the envelope, and adds nothing."""
    token = (await api.signed_up(unique_email("passkey-refusals")))["access_token"]

    async def answer(**wrong: Any) -> httpx.Response:
        created = authenticator.create(await register_options(api, token), **wrong)
        return await post(api, "register/verify", {"credential": created}, token)

    expect_error(await answer(origin="https://evil.example"), 400, "PASSKEY_INVALID")
    expect_error(await answer(rp_id="evil.example"), 400, "PASSKEY_INVALID")
    created = authenticator.create(await register_options(api, token))
    expect(await post(api, "register/verify", {"credential": created}, token), 201)
    replayed = await post(api, "register/verify", {"credential": created}, token)
    expect_error(replayed, 400, "INVALID_CHALLENGE")
    late = authenticator.create(await register_options(api, token))
    _expire_challenges(server)
    expired = await post(api, "register/verify", {"credential": late}, token)
    expect_error(expired, 400, "INVALID_CHALLENGE")
    expect_error(
        await post(api, "register/options", {"password": "Not-The-Password-1"}, token),
        401,
        "INVALID_CREDENTIALS",
    )
    assert len(await my_passkeys(api, token)) == 1


async def test_the_sign_in_failure_table(
    api: Api, server: Server, authenticator: SoftAuthenticator
) -> None:
    """Each wrong assertion is a 4xx in the envelope, and signs nobody in."""
    token = (await api.signed_up(unique_email("passkey-sign-in-refusals")))["access_token"]
    await add_passkey(api, token, authenticator)

    async def answer(**wrong: Any) -> httpx.Response:
        return await sign_in(api, authenticator.get(await sign_in_options(api), **wrong))

    expect_error(await answer(origin="https://evil.example"), 401, "PASSKEY_REFUSED")
    expect_error(await answer(rp_id="evil.example"), 401, "PASSKEY_REFUSED")
    expect_error(await answer(tamper=True), 401, "PASSKEY_REFUSED")
    stranger = SoftAuthenticator(origin=PUBLIC_URL)
    stranger.create(await register_options(api, token))  # never sent: unknown to the server
    unknown = await sign_in(api, stranger.get(await sign_in_options(api)))
    expect_error(unknown, 401, "PASSKEY_REFUSED")

    good = authenticator.get(await sign_in_options(api), sign_count=10)
    expect(await sign_in(api, good), 200)
    expect_error(await sign_in(api, good), 400, "INVALID_CHALLENGE")  # replayed
    expect_error(await answer(sign_count=9), 401, "PASSKEY_REFUSED")  # counter went back
    late = authenticator.get(await sign_in_options(api))
    _expire_challenges(server)
    expect_error(await sign_in(api, late), 400, "INVALID_CHALLENGE")
    expect(await answer(), 200)  # the passkey itself still works

    events = expect(await api.my_events(token, limit=100), 200)["items"]
    [regressed] = [e for e in events if e["type"] == "passkey_counter_regressed"]
    assert regressed["data"]["stored"] == 10
    assert regressed["data"]["reported"] == 9


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"id": "x"},
        {"id": "x", "response": {"clientDataJSON": "!!!"}},
        {"id": "x", "response": {"clientDataJSON": "bnVsbA"}},  # "null"
        {"id": 7, "response": [], "type": "public-key"},
    ],
)
async def test_malformed_answers_are_refused_in_the_envelope(
    api: Api, credential: dict[str, Any]
) -> None:
    token = (await api.signed_up(unique_email("passkey-malformed")))["access_token"]
    expect_error(
        await post(api, "register/verify", {"credential": credential}, token),
        400,
        "INVALID_CHALLENGE",
    )
    expect_error(await sign_in(api, credential), 400, "INVALID_CHALLENGE")
