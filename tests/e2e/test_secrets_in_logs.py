"""No secrets in logs. The session-wide audit lives in secret_log.py: every password, token,
hash, the JWT key and the SMTP password of the whole run are searched for in the server's
log when the session ends, and a hit fails the run. Here: one journey that hands the server
a secret of every kind (so the audit has something to find, whatever else runs), a check of
the log written so far, and proof that the scanner finds what it should.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from neodyme_app.logs import JsonFormatter
from tests.e2e.api import Api, Mailbox, describe, expect, expect_error, unique_email
from tests.e2e.conftest import Server
from tests.e2e.secret_log import MIN_LENGTH, SecretLog
from tests.support.smtp import SmtpSink


def _done(response: httpx.Response) -> None:
    assert response.status_code == 204, describe(response)


async def test_a_journey_through_every_secret_leaves_none_in_the_log(
    api: Api, mailbox: Mailbox, server: Server, smtp_sink: SmtpSink, secret_log: SecretLog
) -> None:
    email = unique_email("secrets")
    # With characters a JSON log escapes (the session server logs JSON): a leak of these
    # is found only by matching their escaped forms (secret_log.written_forms).
    first, second, third = 'First"Secret\\123!', "SecondSecret456?é", "ThirdSecret789#"
    session = await api.signed_up(email, first, "Secret Keeper")
    expect_error(await api.login(email, "NotTheSecret000!"), 401, "INVALID_CREDENTIALS")
    expect_error(await api.register(email, first), 409, "EMAIL_ALREADY_EXISTS")
    expect_error(await api.register(unique_email("weak"), "weakpassword"), 400, "WEAK_PASSWORD")
    session = expect(await api.login(email, first), 200)
    refreshed = expect(await api.refresh(session["refresh_token"]), 200)
    expect_error(await api.refresh(session["refresh_token"]), 401, "TOKEN_REUSED")
    expect_error(await api.me(refreshed["refresh_token"]), 401, "INVALID_TOKEN")
    # The reuse ended that session, its fresh access token too: sign in again.
    refreshed = expect(await api.login(email, first), 200)
    expect(await api.request_verification(refreshed["access_token"]), 202)
    verification = await mailbox.token("email_verification", email)
    expect(await api.verify(verification), 200)
    expect_error(await api.verify(verification), 400, "INVALID_TOKEN")
    _done(await api.change_password(refreshed["access_token"], first, second))
    expect(await api.forgot_password(email), 202)
    reset = await mailbox.token("password_reset", email)
    expect_error(await api.reset_password(reset, "weakpassword"), 400, "WEAK_PASSWORD")
    _done(await api.reset_password(reset, third))
    expect_error(await api.reset_password(reset, third), 400, "INVALID_TOKEN")
    final = expect(await api.login(email, third), 200)
    expect_error(await api.delete_me(final["access_token"], second), 401, "INVALID_CREDENTIALS")
    other = expect(await api.login(email, third), 200)
    _done(await api.logout(other["refresh_token"]))  # ends that session, not this one
    _done(await api.delete_me(final["access_token"], third))

    secret_log.add_mail(mailbox.to(email))
    kinds = secret_log.kinds()
    for kind in (
        "password sent",
        "current_password sent",
        "new_password sent",
        "access_token received",
        "refresh_token received",
        "refresh_token sent",
        "Bearer credentials sent",
        "password hash",
        "NEODYME_SECRET_KEY",
        "NEODYME_SMTP_PASSWORD",
        "one-time token e-mailed (email_verification)",
        "one-time token e-mailed (password_reset)",
    ):
        assert kind in kinds, f"the audit never learned a secret of kind {kind!r}"
    for secret in (first, second, third, verification, reset):
        assert secret in secret_log.secrets
    # The server really logged in to the SMTP server with its password.
    assert smtp_sink.auth is not None
    logins = {received.login for received in smtp_sink.received}
    assert logins == {smtp_sink.auth[0]}, logins
    # The log is not empty (the audit searches something), and holds none of them so far.
    assert "INVALID_CREDENTIALS" in server.log_path.read_text()
    assert secret_log.leaks() == []


def test_the_scanner_finds_a_logged_secret_and_ignores_short_ones(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    hashed = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    log_path.write_text(
        "2026-01-01 12:00:00,123 INFO neodyme.http [-] POST /api/v1/auth/reset-password\n"
        f"2026-01-01 12:00:01,456 INFO neodyme.http [-] user row {hashed}\n"
    )
    scanner = SecretLog()
    scanner.watch(log_path, {"NEODYME_SECRET_KEY": "not-in-the-log-0123456789"})
    scanner.add("password sent", "123")  # too short: it is in every timestamp
    scanner.add("password sent", "password")  # a bare word: it is in a path
    scanner.add("password hash", hashed)

    leaks = scanner.leaks()

    assert len(leaks) == 1
    assert leaks[0].startswith("password hash")
    assert scanner.kinds() == {"password hash", "NEODYME_SECRET_KEY"}
    assert MIN_LENGTH == 8


def test_the_scanner_finds_a_secret_escaped_in_a_json_log_line(tmp_path: Path) -> None:
    secret = 'Pass"word\\ünïcode-1'
    formatter = JsonFormatter()
    leaked = logging.makeLogRecord({"name": "neodyme.http", "msg": "body %s", "args": (secret,)})
    clean = logging.makeLogRecord({"name": "neodyme.http", "msg": "nothing to see"})
    lines = [formatter.format(leaked), formatter.format(clean)]
    log_path = tmp_path / "server.log"
    log_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert secret not in log_path.read_text()  # only its escaped form is in the file
    scanner = SecretLog()
    scanner.watch(log_path, {})
    scanner.add("password sent", secret)

    leaks = scanner.leaks()

    assert len(leaks) == 1
    assert leaks[0].startswith("password sent in server.log: ")
    assert "characters of secret" in leaks[0]
    assert "Pass" not in leaks[0]


def test_the_audit_fails_the_run_when_a_secret_is_logged(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    log_path.write_text("INFO neodyme.mail connecting as neodyme with SmtpPassw0rd!\n")
    scanner = SecretLog()
    scanner.watch(log_path, {"NEODYME_SMTP_PASSWORD": "SmtpPassw0rd!"})

    with pytest.raises(pytest.fail.Exception, match="NEODYME_SMTP_PASSWORD"):
        scanner.audit(SmtpSink())
