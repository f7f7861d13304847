"""The e-mail outbox settings reach the dispatcher's use case: retry delays and lease."""

from __future__ import annotations

from datetime import timedelta

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import _connect_timeout, build_container
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


async def test_the_retry_delays_come_from_the_settings() -> None:
    container = build_container(memory_settings(retry="0.5", max_retry="1.5"))
    clock = ManualClock()
    notifier = RecordingNotifier()
    notifier.failure = ConnectionRefusedError("SMTP down")
    container.clock.override(clock)
    container.notifier.override(notifier)
    try:
        await container.register_user()(RegisterCommand("ada@example.com", "Ada", PASSWORD))
        database = container.memory_database()
        waits = []
        for _ in range(3):
            assert await container.deliver_outbox()() == Delivery(sent=0, failed=1)
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
