"""/auth/mfa over HTTP: shapes, status codes and envelopes of two-factor sign-in (api.md)."""

from __future__ import annotations

from typing import Any

import pyotp

from neodyme_app.container import Container
from neodyme_domain.use_cases import RegisterCommand
from tests.unit.http.conftest import PASSWORD, bearer

MFA = "/api/v1/auth/mfa"


async def enrolled(client: Any, register: Any, email: str) -> tuple[dict[str, Any], str, list[str]]:
    """A signed-up user with two-factor sign-in on: their session, secret, recovery codes."""
    session = (await register(email)).json()
    headers = bearer(session["access_token"])
    setup = await client.post(f"{MFA}/totp/setup", json={"password": PASSWORD}, headers=headers)
    assert setup.status_code == 200
    secret = setup.json()["secret"]
    confirmed = await client.post(
        f"{MFA}/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert confirmed.status_code == 200
    return session, secret, confirmed.json()["recovery_codes"]


async def test_setup_then_confirm_turns_it_on(client: Any, register: Any) -> None:
    session = (await register("on@example.com")).json()
    headers = bearer(session["access_token"])

    setup = await client.post(f"{MFA}/totp/setup", json={"password": PASSWORD}, headers=headers)
    body = setup.json()
    wrong = await client.post(f"{MFA}/totp/confirm", json={"code": "000000"}, headers=headers)
    right = await client.post(
        f"{MFA}/totp/confirm", json={"code": pyotp.TOTP(body["secret"]).now()}, headers=headers
    )

    assert setup.status_code == 200
    assert setup.headers["cache-control"] == "no-store"
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["qr_svg"].startswith("<svg")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "INVALID_CODE")
    assert right.status_code == 200
    assert len(right.json()["recovery_codes"]) == 10
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.json()["mfa_enabled"] is True
    again = await client.post(f"{MFA}/totp/setup", json={"password": PASSWORD}, headers=headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "MFA_ALREADY_ENABLED")


async def test_login_asks_for_the_second_factor_and_verify_completes_it(
    client: Any, register: Any
) -> None:
    _, _, codes = await enrolled(client, register, "two@example.com")
    credentials = {"email": "two@example.com", "password": PASSWORD}

    asked = await client.post("/api/v1/auth/login", json=credentials)
    error = asked.json()["error"]
    token = error["details"]["mfa_token"]
    neither = await client.post(f"{MFA}/verify", json={"mfa_token": token})
    both = await client.post(
        f"{MFA}/verify", json={"mfa_token": token, "code": "123456", "recovery_code": codes[0]}
    )
    by_recovery = await client.post(
        f"{MFA}/verify", json={"mfa_token": token, "recovery_code": codes[0]}
    )

    assert asked.status_code == 401
    assert asked.headers["www-authenticate"] == "Bearer"
    assert error["code"] == "MFA_REQUIRED"
    assert set(error["details"]) == {"mfa_token", "methods", "expires_in"}
    assert (neither.status_code, both.status_code) == (422, 422)
    assert by_recovery.status_code == 200
    assert set(by_recovery.json()) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "user",
    }
    spent = await client.post(f"{MFA}/verify", json={"mfa_token": token, "code": "123456"})
    assert (spent.status_code, spent.json()["error"]["code"]) == (401, "INVALID_TOKEN")


async def test_recovery_codes_and_disable_need_the_password(client: Any, register: Any) -> None:
    session, _, _ = await enrolled(client, register, "off@example.com")
    headers = bearer(session["access_token"])

    refused = await client.post(
        f"{MFA}/recovery-codes", json={"password": "Wrong-Password-1"}, headers=headers
    )
    fresh = await client.post(f"{MFA}/recovery-codes", json={"password": PASSWORD}, headers=headers)
    bad_code = await client.post(
        f"{MFA}/totp/disable", json={"password": PASSWORD, "code": "nope"}, headers=headers
    )
    off = await client.post(
        f"{MFA}/totp/disable",
        json={"password": PASSWORD, "code": fresh.json()["recovery_codes"][0]},
        headers=headers,
    )

    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")
    assert len(fresh.json()["recovery_codes"]) == 10
    assert (bad_code.status_code, bad_code.json()["error"]["code"]) == (401, "INVALID_CODE")
    assert off.status_code == 204
    login = await client.post(
        "/api/v1/auth/login", json={"email": "off@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    none_left = await client.post(
        f"{MFA}/recovery-codes", json={"password": PASSWORD}, headers=headers
    )
    assert (none_left.status_code, none_left.json()["error"]["code"]) == (409, "MFA_NOT_ENABLED")


async def test_an_admin_resets_a_users_second_factor(
    client: Any, register: Any, container: Container
) -> None:
    session, _, _ = await enrolled(client, register, "lost@example.com")
    await container.register_user()(
        RegisterCommand("root@example.com", "Root", PASSWORD, is_superuser=True)
    )
    root = await client.post(
        "/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}
    )
    url = f"/api/v1/users/{session['user']['id']}/mfa"

    by_user = await client.delete(url, headers=bearer(session["access_token"]))
    by_admin = await client.delete(url, headers=bearer(root.json()["access_token"]))
    again = await client.delete(url, headers=bearer(root.json()["access_token"]))

    assert (by_user.status_code, by_user.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert by_admin.status_code == 204
    assert (again.status_code, again.json()["error"]["code"]) == (409, "MFA_NOT_ENABLED")
