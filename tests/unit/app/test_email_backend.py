"""The e-mail backend the container picks, and what its log backend writes: a real password
reset goes through the whole path (request, outbox, delivery) on a production container
set to log e-mails, and its token never reaches the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from neodyme_adapters.smtp_notifier import ConsoleNotifier, SmtpNotifier
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_domain.use_cases import PasswordResetRequest, RegisterCommand

SECRET = "s" * 48
PASSWORD = "SecurePassword123!"


def settings(environment: str, **variables: str) -> Settings:
    return Settings.from_env(
        {
            "NEODYME_ENVIRONMENT": environment,
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_DATABASE_URL": "memory://",
            "NEODYME_PUBLIC_URL": "https://app.example.com",
            # production's least OWASP cost, so that the production container starts
            "NEODYME_ARGON2_MEMORY_KIB": "7168",
            "NEODYME_ARGON2_TIME_COST": "5",
            "NEODYME_HASH_CONCURRENCY": "1",
        }
        | {f"NEODYME_{name.upper()}": value for name, value in variables.items()}
    )


@pytest.fixture
async def production_logging_e_mails() -> AsyncIterator[Container]:
    container = build_container(settings("production", email_backend="log"))
    yield container
    container.hasher().close()


async def reset_link_logged(container: Container, caplog: pytest.LogCaptureFixture) -> str:
    """Register Ada, ask for a reset, deliver the outbox; the link that was e-mailed."""
    caplog.set_level(logging.INFO, logger="neodyme.email")
    await container.register_user()(RegisterCommand("ada@example.com", "Ada", PASSWORD))
    await container.request_password_reset()(PasswordResetRequest("ada@example.com"))
    outbox = container.memory_database().outbox
    links = [entry.message.data["link"] for entry in outbox if "link" in entry.message.data]
    delivery = await container.deliver_outbox()()
    assert (delivery.sent, delivery.failed) == (2, 0)  # the welcome and the reset e-mails
    (link,) = links
    return link


async def test_production_logs_a_reset_e_mail_without_its_link_or_token(
    production_logging_e_mails: Container, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = production_logging_e_mails.notifier()
    assert isinstance(notifier, ConsoleNotifier)
    assert not notifier.show_content

    link = await reset_link_logged(production_logging_e_mails, caplog)

    token = link.split("token=", 1)[1]
    assert len(token) >= 20
    lines = [r.getMessage() for r in caplog.records if r.name == "neodyme.email"]
    assert any("kind=password_reset to=ada@example.com" in line for line in lines), lines
    for record in caplog.records:
        assert token not in f"{record.getMessage()} {vars(record)!r}"


async def test_development_logs_the_whole_reset_link(caplog: pytest.LogCaptureFixture) -> None:
    container = build_container(settings("development"))
    try:
        link = await reset_link_logged(container, caplog)
    finally:
        container.hasher().close()

    assert link.startswith("https://app.example.com/reset-password?token=")
    assert any(link in r.getMessage() for r in caplog.records if r.name == "neodyme.email")


@pytest.mark.parametrize(
    ("environment", "variables", "expected"),
    [
        ("development", {}, ConsoleNotifier),
        ("testing", {}, ConsoleNotifier),
        ("development", {"smtp_host": "smtp.example.com"}, SmtpNotifier),
        ("production", {"smtp_host": "smtp.example.com"}, SmtpNotifier),
        ("production", {"smtp_host": "smtp.example.com", "email_backend": "log"}, ConsoleNotifier),
    ],
)
def test_the_container_picks_the_backend_the_settings_name(
    environment: str, variables: dict[str, str], expected: type
) -> None:
    notifier = build_container(settings(environment, **variables)).notifier()

    assert type(notifier) is expected
    if isinstance(notifier, ConsoleNotifier):
        assert notifier.show_content is (environment != "production")
