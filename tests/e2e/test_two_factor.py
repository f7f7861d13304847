"""Two-factor sign-in over the real server, on both databases, as a user with an
authenticator app lives it: the test computes the codes from the secret the server
returned, as the app would; the notices arrive over SMTP."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pyotp

from tests.e2e.api import PASSWORD, Api, Cli, Mailbox, expect, expect_error, unique_email
from tests.e2e.backends import cli, database, server

__all__ = ["cli", "database", "server"]


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What the authenticator app shows now (or ``steps_ahead`` 30-second steps later,
    which the server accepts within its one step of drift)."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=steps_ahead)


async def enrolled(api: Api, mailbox: Mailbox, email: str) -> tuple[dict[str, Any], str, list[str]]:
    session = await api.signed_up(email)
    token = session["access_token"]
    setup = expect(await api.mfa("totp/setup", {"password": PASSWORD}, token), 200)
    assert setup["qr_svg"].startswith("<svg")
    assert quote(email, safe="") in setup["otpauth_uri"]
    codes = expect(await api.mfa("totp/confirm", {"code": app_code(setup["secret"])}, token), 200)
    await mailbox.wait_for("mfa_enabled", email)
    assert expect(await api.me(token), 200)["mfa_enabled"] is True
    return session, setup["secret"], codes["recovery_codes"]


async def mfa_token(api: Api, email: str) -> str:
    error = expect_error(await api.login(email), 401, "MFA_REQUIRED")
    assert error["details"]["methods"] == ["totp", "recovery_codes"]
    return str(error["details"]["mfa_token"])


async def test_sign_in_with_a_code_once_then_with_a_recovery_code_once(
    api: Api, mailbox: Mailbox
) -> None:
    email = unique_email("totp")
    session, secret, recovery_codes = await enrolled(api, mailbox, email)
    expect_error(await api.login(email, "Not-The-Password-1"), 401, "INVALID_CREDENTIALS")

    code = app_code(secret, steps_ahead=1)  # a step after the one the confirmation spent
    signed_in = expect(
        await api.mfa("verify", {"mfa_token": await mfa_token(api, email), "code": code}), 200
    )
    assert expect(await api.me(signed_in["access_token"]), 200)["email"] == email
    replayed = await api.mfa("verify", {"mfa_token": await mfa_token(api, email), "code": code})
    expect_error(replayed, 401, "INVALID_CODE")

    recovery = {"recovery_code": recovery_codes[0]}
    first = await api.mfa("verify", {"mfa_token": await mfa_token(api, email), **recovery})
    expect(first, 200)
    again = await api.mfa("verify", {"mfa_token": await mfa_token(api, email), **recovery})
    expect_error(again, 401, "INVALID_CODE")
    notice = await mailbox.wait_for("recovery_code_used", email)
    assert "9 unused codes remain" in notice.get_content()

    off = await api.mfa(
        "totp/disable",
        {"password": PASSWORD, "code": recovery_codes[1]},
        session["access_token"],
    )
    assert off.status_code == 204, off.text
    await mailbox.wait_for("mfa_disabled", email)
    expect(await api.login(email), 200)
    events = expect(await api.my_events(session["access_token"], limit=100), 200)["items"]
    types = {event["type"] for event in events}
    assert {"mfa_enabled", "mfa_failed", "recovery_code_used", "mfa_disabled"} <= types


async def test_six_wrong_codes_lock_the_account(api: Api, mailbox: Mailbox) -> None:
    email = unique_email("totp-lock")
    _, secret, _ = await enrolled(api, mailbox, email)
    token = await mfa_token(api, email)
    wrong = app_code(secret, steps_ahead=10)  # far outside the drift window

    for _ in range(5):
        expect_error(
            await api.mfa("verify", {"mfa_token": token, "code": wrong}), 401, "INVALID_CODE"
        )

    sixth = await api.mfa("verify", {"mfa_token": token, "code": app_code(secret)})
    expect_error(sixth, 429, "TOO_MANY_ATTEMPTS")
    assert int(sixth.headers["retry-after"]) > 0
    expect_error(await api.login(email), 429, "TOO_MANY_ATTEMPTS")


async def test_an_operator_resets_a_lost_second_factor(
    api: Api, mailbox: Mailbox, cli: Cli
) -> None:
    email = unique_email("totp-lost")
    await enrolled(api, mailbox, email)

    reset = await cli.run("users", "reset-mfa", email)

    assert reset.returncode == 0, reset.stderr
    assert "is off" in reset.stdout
    notice = await mailbox.wait_for("mfa_disabled", email)
    assert "by an administrator" in notice.get_content()
    expect(await api.login(email), 200)
