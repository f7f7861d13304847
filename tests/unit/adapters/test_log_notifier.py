"""The log e-mail backend (ConsoleNotifier): the whole message in development, where reset
links are read from the console; in production only what was sent to whom, never a link
or its token, whatever the template."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from neodyme_adapters.smtp_notifier import ConsoleNotifier
from neodyme_domain.messages import EmailMessage
from neodyme_domain.model import Email, User

LOGGER = "neodyme.email.test"


def reset_email() -> tuple[EmailMessage, str]:
    """A real password reset e-mail (the domain's template) and the token its link carries."""
    user = User.register(
        email=Email.parse("ada@example.com"),
        full_name="Ada Lovelace",
        hashed_password="x",
        now=datetime.now(UTC),
    )
    token = secrets.token_urlsafe(32)
    link = f"https://app.example.com/reset-password?token={token}"
    return EmailMessage.password_reset(user, link, timedelta(hours=1)), token


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Each record's message, arguments and extra fields: what any formatter (text or JSON)
    could write."""
    return "\n".join(
        f"{record.getMessage()} {record.args!r} {vars(record)!r}" for record in caplog.records
    )


async def test_in_production_the_log_backend_names_kind_and_recipient_but_never_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message, token = reset_email()
    caplog.set_level(logging.INFO, logger=LOGGER)

    await ConsoleNotifier(logging.getLogger(LOGGER), show_content=False).send(message)

    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert "kind=password_reset" in record.getMessage()
    assert "to=ada@example.com" in record.getMessage()
    assert "redacted" in record.getMessage()
    logged = everything_logged(caplog)
    assert token not in logged
    assert "reset-password" not in logged  # not even the link without its token
    assert "Ada Lovelace" not in logged  # nor the body's other content


async def test_in_development_the_log_backend_prints_the_whole_link(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message, token = reset_email()
    caplog.set_level(logging.INFO, logger=LOGGER)

    await ConsoleNotifier(logging.getLogger(LOGGER)).send(message)

    (record,) = caplog.records
    assert f"https://app.example.com/reset-password?token={token}" in record.getMessage()
    assert "to=ada@example.com" in record.getMessage()
