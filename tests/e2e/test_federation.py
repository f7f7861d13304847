"""Sign-in with another OpenID Connect provider, against a real one: panva's certified
oidc-provider on loopback (tests/support/oidc_provider.py), neodyme the relying party in
its own server process over PostgreSQL, through the API flow a client that handles the
redirect uses (the pages' flow is the browser tier's).

The provider's answers are real: its authorization endpoint, its codes, its signed ID
tokens, its JWKS. The failure table makes the provider misbehave as a broken or hostile
one would (a decoy JWKS, a clock two hours behind, an address it never verified, no
answer at all) and checks that neodyme refuses with a clear error and creates nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.e2e.api import PASSWORD, Api, bearer, expect, expect_error
from tests.e2e.faults import Reader, Rig, address, api_of
from tests.support.oidc_provider import OidcProvider
from tests.support.server import PUBLIC_URL, ServerProcess, free_port

APP_CALLBACK = "http://127.0.0.1:9/app/callback"
"""The API client's redirect URI: registered with the provider and listed in
NEODYME_OIDC_REDIRECT_URIS; nothing listens there (the test reads the redirect)."""
OIDC = "/api/v1/auth/oidc"


@dataclass
class Federation:
    provider: OidcProvider
    server: ServerProcess
    reader: Reader


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    pages_callback = f"{PUBLIC_URL}/login/oidc/local/callback"
    with (
        OidcProvider([APP_CALLBACK, pages_callback]) as provider,
        Rig(tmp_path_factory.mktemp("federation")) as rig,
        rig.explained(),
    ):
        url = rig.database("federation")
        env = rig.env(
            url,
            rig.smtp().port,
            oidc_providers=json.dumps([provider.settings_entry]),
            oidc_redirect_uris=APP_CALLBACK,
        )
        yield Federation(provider, rig.server(env), rig.reader(url))


@pytest.fixture
async def api(federation: Federation) -> AsyncIterator[Api]:
    federation.provider.reset()
    async with api_of(federation.server) as api:
        yield api


async def authorize(api: Api, provider: str = "local") -> dict[str, Any]:
    body = {"redirect_uri": APP_CALLBACK}
    return dict(expect(await api.client.post(f"{OIDC}/{provider}/authorize", json=body), 200))


async def callback(api: Api, answer: dict[str, str]) -> httpx.Response:
    body = {"code": answer["code"], "state": answer["state"]}
    return await api.client.post(f"{OIDC}/local/callback", json=body)


async def sign_in(api: Api, provider: OidcProvider) -> httpx.Response:
    started = await authorize(api)
    return await callback(api, provider.answer(started["authorization_url"], APP_CALLBACK))


def accounts_of(reader: Reader, email: str) -> int:
    rows = reader.rows("SELECT count(*) AS n FROM users WHERE lower(email) = :e", e=email.lower())
    return int(rows[0]["n"])


def links_of(reader: Reader, subject: str) -> int:
    rows = reader.rows("SELECT count(*) AS n FROM linked_identities WHERE subject = :s", s=subject)
    return int(rows[0]["n"])


async def test_a_first_sign_in_makes_a_verified_account_and_the_next_signs_in_to_it(
    api: Api, federation: Federation
) -> None:
    email, subject = address("first"), f"sub-{address('s')}"
    federation.provider.set_account(subject, email, name="Ada Lovelace")

    providers = expect(await api.client.get(f"{OIDC}/providers"), 200)
    assert providers == {"items": [{"name": "local", "title": "Local Test ID"}]}
    started = await authorize(api)
    query = parse_qs(urlsplit(started["authorization_url"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [started["state"]]
    assert len(query["nonce"][0]) >= 43

    session = expect(
        await callback(api, federation.provider.answer(started["authorization_url"], APP_CALLBACK)),
        200,
    )
    user = session["user"]
    assert (user["email"], user["full_name"], user["is_verified"]) == (email, "Ada Lovelace", True)
    me = expect(
        await api.client.get("/api/v1/auth/me", headers=bearer(session["access_token"])), 200
    )
    assert me["id"] == user["id"]
    identities = expect(
        await api.client.get(
            "/api/v1/users/me/identities", headers=bearer(session["access_token"])
        ),
        200,
    )
    assert [(i["provider"], i["email"]) for i in identities["items"]] == [("local", email)]
    # No password: a password login with the address is refused like a wrong password.
    expect_error(await api.login(email, PASSWORD), 401, "INVALID_CREDENTIALS")

    again = expect(await sign_in(api, federation.provider), 200)
    assert again["user"]["id"] == user["id"]
    assert accounts_of(federation.reader, email) == 1
    # The only way in: unlinking it is refused.
    [identity] = identities["items"]
    unlink = await api.client.delete(
        f"/api/v1/users/me/identities/{identity['id']}", headers=bearer(again["access_token"])
    )
    expect_error(unlink, 409, "LAST_SIGN_IN_METHOD")


async def test_an_address_an_account_holds_is_linked_only_with_its_password(
    api: Api, federation: Federation
) -> None:
    email, subject = address("held"), f"sub-{address('h')}"
    owner = await api.signed_up(email)
    federation.provider.set_account(subject, email)

    refused = expect_error(await sign_in(api, federation.provider), 409, "LINK_REQUIRED")
    assert refused["details"]["email"] == email
    assert links_of(federation.reader, subject) == 0  # nothing linked before the proof
    link_token = refused["details"]["link_token"]

    wrong = {"link_token": link_token, "password": PASSWORD + "x"}
    expect_error(await api.client.post(f"{OIDC}/link", json=wrong), 401, "INVALID_CREDENTIALS")
    assert links_of(federation.reader, subject) == 0
    # The token was spent by the wrong try: the right password needs a new sign-in.
    right = {"link_token": link_token, "password": PASSWORD}
    expect_error(await api.client.post(f"{OIDC}/link", json=right), 400, "FEDERATION_REFUSED")

    again = expect_error(await sign_in(api, federation.provider), 409, "LINK_REQUIRED")
    right = {"link_token": again["details"]["link_token"], "password": PASSWORD}
    linked = expect(await api.client.post(f"{OIDC}/link", json=right), 200)
    assert linked["user"]["id"] == owner["user"]["id"]
    assert links_of(federation.reader, subject) == 1

    through_provider = expect(await sign_in(api, federation.provider), 200)
    assert through_provider["user"]["id"] == owner["user"]["id"]
    # It has a password too: the provider may go.
    token = through_provider["access_token"]
    [identity] = expect(
        await api.client.get("/api/v1/users/me/identities", headers=bearer(token)), 200
    )["items"]
    unlink = await api.client.delete(
        f"/api/v1/users/me/identities/{identity['id']}", headers=bearer(token)
    )
    assert unlink.status_code == 204, unlink.text
    assert links_of(federation.reader, subject) == 0
    kinds = {
        row["kind"]
        for row in federation.reader.rows(
            "SELECT kind FROM email_outbox WHERE lower(recipient) = :e", e=email.lower()
        )
    }
    assert {"identity_linked", "identity_unlinked"} <= kinds


# The failure table: each row makes one thing go wrong; neodyme answers clearly and
# nothing is created (no account, no link).


async def test_a_wrong_state_is_refused(api: Api, federation: Federation) -> None:
    email = address("state")
    federation.provider.set_account(f"sub-{email}", email)
    started = await authorize(api)
    answer = federation.provider.answer(started["authorization_url"], APP_CALLBACK)
    expect_error(
        await callback(api, {**answer, "state": answer["state"] + "x"}), 400, "FEDERATION_REFUSED"
    )
    assert accounts_of(federation.reader, email) == 0


async def test_a_replayed_code_is_refused(api: Api, federation: Federation) -> None:
    email = address("replay")
    federation.provider.set_account(f"sub-{email}", email)
    started = await authorize(api)
    answer = federation.provider.answer(started["authorization_url"], APP_CALLBACK)
    expect(await callback(api, answer), 200)

    # The same callback again: its state is spent.
    expect_error(await callback(api, answer), 400, "FEDERATION_REFUSED")
    # The code with a fresh state: the provider refuses it (used, and not this verifier).
    fresh = await authorize(api)
    replayed = {"code": answer["code"], "state": fresh["state"]}
    expect_error(await callback(api, replayed), 400, "FEDERATION_REFUSED")
    assert accounts_of(federation.reader, email) == 1


async def test_an_id_token_with_another_nonce_is_refused(api: Api, federation: Federation) -> None:
    email = address("nonce")
    federation.provider.set_account(f"sub-{email}", email)
    started = await authorize(api)
    url = urlsplit(started["authorization_url"])
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    tampered = url._replace(query=urlencode({**query, "nonce": query["nonce"] + "x"})).geturl()
    expect_error(
        await callback(api, federation.provider.answer(tampered, APP_CALLBACK)),
        400,
        "FEDERATION_REFUSED",
    )
    assert accounts_of(federation.reader, email) == 0


async def test_an_id_token_signed_by_a_key_the_provider_does_not_publish_is_refused(
    api: Api, federation: Federation
) -> None:
    email = address("decoy")
    federation.provider.set_account(f"sub-{email}", email)
    federation.provider.decoy_keys(True)
    expect_error(await sign_in(api, federation.provider), 400, "FEDERATION_REFUSED")
    assert accounts_of(federation.reader, email) == 0


async def test_an_expired_id_token_is_refused(api: Api, federation: Federation) -> None:
    email = address("expired")
    federation.provider.set_account(f"sub-{email}", email)
    federation.provider.clock_offset(-7200)  # its tokens expire an hour after their iat
    expect_error(await sign_in(api, federation.provider), 400, "FEDERATION_REFUSED")
    assert accounts_of(federation.reader, email) == 0


async def test_an_address_the_provider_did_not_verify_makes_no_account(
    api: Api, federation: Federation
) -> None:
    email = address("unverified")
    federation.provider.set_account(f"sub-{email}", email, email_verified=False)
    expect_error(await sign_in(api, federation.provider), 403, "PROVIDER_EMAIL_UNVERIFIED")
    assert accounts_of(federation.reader, email) == 0


async def test_a_provider_that_is_down_is_a_clear_503_and_nothing_is_made(
    tmp_path: Path,
) -> None:
    down = {
        "name": "down",
        "issuer": f"http://127.0.0.1:{free_port()}",  # nobody listens there
        "client_id": "neodyme",
        "client_secret": "never-used",
    }
    with Rig(tmp_path) as rig, rig.explained():
        url = rig.database("down")
        env = rig.env(
            url,
            rig.smtp().port,
            oidc_providers=json.dumps([down]),
            oidc_redirect_uris=APP_CALLBACK,
        )
        server = rig.server(env)
        async with api_of(server) as api:
            refused = await authorize_raw(api, "down")
            error = expect_error(refused, 503, "PROVIDER_UNAVAILABLE")
            assert int(refused.headers["retry-after"]) > 0
            assert "never-used" not in json.dumps(error)
            page = await api.client.get("/login/oidc/down")
            assert page.status_code == 503
            assert "cannot be reached" in page.text
        assert rig.reader(url).rows("SELECT count(*) AS n FROM federation_requests")[0]["n"] == 0


async def authorize_raw(api: Api, provider: str) -> httpx.Response:
    body = {"redirect_uri": APP_CALLBACK}
    return await api.client.post(f"{OIDC}/{provider}/authorize", json=body)
