"""The e-mail outbox settings reach the dispatcher's use case: retry delays, lease and the
attempt limit; the SMTP CA file is checked at start."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings, SettingsError
from neodyme_app.container import Container, _connect_timeout, build_container
from neodyme_domain.messages import EmailMessage
from neodyme_domain.use_cases import Delivery, RegisterCommand

SECRET = "s" * 32
PASSWORD = "SecurePassword123!"


def test_the_defaults_retry_after_2_seconds_up_to_10_minutes_with_a_minute_lease() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET})

    assert settings.outbox_retry == timedelta(seconds=2)
    assert settings.outbox_max_retry == timedelta(minutes=10)
    assert settings.outbox_lease == timedelta(minutes=1)
    assert settings.db_timeout == 3.0  # a request meets an outage with 503 within 5 s


def memory_settings(**outbox: str) -> Settings:
    return Settings.from_env(
        {
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_DATABASE_URL": "memory://",
            "NEODYME_ARGON2_MEMORY_KIB": "64",
            "NEODYME_ARGON2_TIME_COST": "1",
        }
        | {f"NEODYME_OUTBOX_{name.upper()}_SECONDS": value for name, value in outbox.items()}
    )


def mail_server_down(settings: Settings) -> tuple[Container, ManualClock]:
    """A container on ``settings`` whose mail server refuses every e-mail, and its clock."""
    container = build_container(settings)
    clock = ManualClock()
    notifier = RecordingNotifier()
    notifier.failure = ConnectionRefusedError("SMTP down")
    container.clock.override(clock)
    container.notifier.override(notifier)
    return container, clock


async def test_the_retry_delays_come_from_the_settings() -> None:
    container, clock = mail_server_down(memory_settings(retry="0.5", max_retry="1.5"))
    try:
        await container.register_user()(RegisterCommand("ada@example.com", "Ada", PASSWORD))
        database = container.memory_database()
        waits = []
        for _ in range(3):
            assert await container.deliver_outbox()() == Delivery(
                sent=0, failed=1, last_error="ConnectionRefusedError: SMTP down"
            )
            [entry] = database.outbox
            assert entry.next_attempt_at is not None
            waits.append(entry.next_attempt_at - clock.now())
            clock.advance(waits[-1])
    finally:
        container.hasher().close()

    assert waits == [timedelta(seconds=s) for s in (0.5, 1.0, 1.5)]


async def test_the_lease_comes_from_the_settings() -> None:
    container = build_container(memory_settings(lease="7"))
    clock = ManualClock()

    class SlowMailServer(RecordingNotifier):
        async def send(self, message: EmailMessage) -> None:
            clock.advance(timedelta(seconds=4))
            await super().send(message)

    container.clock.override(clock)
    container.notifier.override(SlowMailServer())
    try:
        for email in ("ada@example.com", "grace@example.com"):
            await container.register_user()(RegisterCommand(email, "Someone", PASSWORD))
        # One send takes 4 s, past half the 7 s lease: the second e-mail waits for the next
        # round (with the default minute-long lease both would go in one).
        assert await container.deliver_outbox()() == Delivery(sent=1, failed=0)
    finally:
        container.hasher().close()


def test_only_postgresql_bounds_getting_a_connection() -> None:
    def timeout_for(url: str) -> float | None:
        return _connect_timeout(
            Settings.from_env({"NEODYME_SECRET_KEY": SECRET, "NEODYME_DATABASE_URL": url})
        )

    assert timeout_for("postgresql+psycopg://postgres@127.0.0.1/neodyme") == 3.0
    assert timeout_for("postgresql://postgres@127.0.0.1/neodyme") == 3.0
    assert timeout_for("sqlite+aiosqlite:///./neodyme.db") is None  # waits for its lock


def test_emails_are_given_up_after_440_attempts_and_tls_trusts_the_system_cas_by_default() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET})

    assert settings.outbox_max_attempts == 440
    assert settings.smtp_ca_file is None


async def test_the_attempt_limit_comes_from_the_settings() -> None:
    container, clock = mail_server_down(
        replace(memory_settings(retry="1", max_retry="1"), outbox_max_attempts=2)
    )
    try:
        await container.register_user()(RegisterCommand("ada@example.com", "Ada", PASSWORD))
        first = await container.deliver_outbox()()
        clock.advance(timedelta(seconds=1))
        second = await container.deliver_outbox()()
        backlog = await container.outbox_status()()
    finally:
        container.hasher().close()

    assert (first.dead, len(second.dead)) == ((), 1)
    assert (backlog.pending, backlog.dead) == (0, 1)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("/nonexistent/ca.pem", "No such file or directory"),
        ("/dev/null", "no certificate or crl found"),
    ],
)
def test_a_ca_file_that_cannot_be_loaded_is_refused_at_start(value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"NEODYME_SECRET_KEY": SECRET, "NEODYME_SMTP_CA_FILE": value})

    message = str(refused.value)
    assert message.startswith(f"NEODYME_SMTP_CA_FILE='{value}' is not valid: cannot load it")
    assert problem in message
    assert "\n" not in message
