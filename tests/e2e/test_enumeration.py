"""Enumeration resistance: whether an address has an account cannot be read off a response.

A failed login for an unknown address and one with a wrong password (and one for a
deactivated account with a wrong password) answer byte for byte the same: status, every
header name, every header value but ``date`` and ``x-request-id``, and the body apart from
its request id. Timing is bench/enumeration_timing.py's business (a benchmark, not a test:
a timing assertion would be flaky on a shared CI machine).
"""

from __future__ import annotations

from typing import Any

import httpx
import pyotp

from tests.e2e.api import PASSWORD, Api, Cli, describe, expect, expect_error, unique_email

VARYING_HEADERS = {"date", "x-request-id"}
"""Set per response: the clock (may move a second between the two) and the request id."""


def _fingerprint(response: httpx.Response) -> dict[str, Any]:
    """Everything a client can observe, except what legitimately varies per response."""
    body = response.json()
    error = dict(body["error"])
    assert error.pop("request_id") == response.headers["x-request-id"], describe(response)
    names = sorted(name.lower() for name in response.headers)
    headers = sorted(
        (name.lower(), value)
        for name, value in response.headers.multi_items()
        if name.lower() not in VARYING_HEADERS
    )
    return {
        "status": response.status_code,
        "header names": names,
        "headers": headers,
        "body": {**body, "error": error},
        "body length": len(response.content),
    }


async def _wrong_password(api: Api, email: str) -> httpx.Response:
    return await api.login(email, "WrongPassword123!")


async def test_unknown_email_and_wrong_password_answer_identically(api: Api) -> None:
    email = unique_email("enum-known")
    await api.signed_up(email)

    unknown = await api.login(unique_email("enum-unknown"), "WrongPassword123!")
    wrong = await _wrong_password(api, email)

    expect_error(unknown, 401, "INVALID_CREDENTIALS")
    expect_error(wrong, 401, "INVALID_CREDENTIALS")
    assert _fingerprint(unknown) == _fingerprint(wrong)


async def test_an_unparseable_address_answers_like_an_unknown_one(api: Api) -> None:
    """A string that cannot be an address (yet passes the schema) is not a 422 at login:
    a 422 would tell which inputs are worth trying."""
    email = unique_email("enum-parse")
    await api.signed_up(email)

    nonsense = await api.login("not an address at all", "WrongPassword123!")
    wrong = await _wrong_password(api, email)

    expect_error(nonsense, 401, "INVALID_CREDENTIALS")
    assert _fingerprint(nonsense) == _fingerprint(wrong)


async def test_a_deactivated_account_with_a_wrong_password_answers_like_any_other(
    api: Api, cli: Cli
) -> None:
    """ACCOUNT_INACTIVE is only for whoever knows the password."""
    admin_email = unique_email("enum-admin")
    created = await cli.create_user(admin_email, "Admin", "AdminPassword123!", superuser=True)
    assert created.returncode == 0, created.stderr
    admin = expect(await api.login(admin_email, "AdminPassword123!"), 200)
    email = unique_email("enum-inactive")
    victim = await api.signed_up(email)
    expect(await api.set_active(victim["user"]["id"], admin["access_token"], False), 200)

    inactive = await _wrong_password(api, email)
    unknown = await api.login(unique_email("enum-unknown"), "WrongPassword123!")

    expect_error(inactive, 401, "INVALID_CREDENTIALS")
    assert _fingerprint(inactive) == _fingerprint(unknown)


async def test_case_variants_of_a_known_address_answer_like_it(api: Api) -> None:
    """The same account under another spelling: wrong password, same answer as unknown."""
    email = unique_email("enum-case")
    await api.signed_up(email)

    upper = await _wrong_password(api, email.upper())
    unknown = await api.login(unique_email("enum-unknown").upper(), "WrongPassword123!")

    assert _fingerprint(upper) == _fingerprint(unknown)


async def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(
    api: Api,
) -> None:
    email = unique_email("enum-forgot")
    await api.signed_up(email)

    known = await api.forgot_password(email)
    unknown = await api.forgot_password(unique_email("enum-forgot-unknown"))

    assert known.status_code == unknown.status_code == 202, describe(known)
    assert known.content == unknown.content
    strip = {name: value for name, value in known.headers.items() if name not in VARYING_HEADERS}
    assert strip == {
        name: value for name, value in unknown.headers.items() if name not in VARYING_HEADERS
    }


async def test_an_account_with_two_factor_sign_in_answers_a_wrong_password_like_any_other(
    api: Api,
) -> None:
    """MFA_REQUIRED comes only after the right password: it tells nothing to a guesser."""
    email = unique_email("enum-2fa")
    token = (await api.signed_up(email))["access_token"]
    setup = expect(await api.mfa("totp/setup", {"password": PASSWORD}, token), 200)
    code = pyotp.TOTP(setup["secret"]).now()
    expect(await api.mfa("totp/confirm", {"code": code}, token), 200)

    unknown = await _wrong_password(api, unique_email("enum-2fa-unknown"))
    known = await _wrong_password(api, email)

    expect_error(known, 401, "INVALID_CREDENTIALS")
    assert _fingerprint(known) == _fingerprint(unknown)
