"""Delivery health: an outage is told when it starts, now and then while it lasts (or when
its reason changes), and when it is over; never once per failed attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from neodyme_domain.delivery_health import DeliveryHealth, HealthChange, HealthEvent

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
REFUSED = "SMTPException: SMTP STARTTLS extension not supported by server."
DROPPED = "SMTPServerDisconnected: Connection lost"


def health() -> DeliveryHealth:
    return DeliveryHealth(remind_every=timedelta(minutes=15), min_gap=timedelta(minutes=1))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_first_failure_is_told_with_its_reason() -> None:
    watch = health()

    assert not watch.failing
    assert watch.failed(T0, REFUSED) == HealthChange(HealthEvent.FAILING, REFUSED, T0)
    assert watch.failing


def test_an_outage_of_an_hour_failing_every_second_is_told_in_a_few_lines() -> None:
    watch = health()

    told = [change for s in range(3600) if (change := watch.failed(at(s), REFUSED)) is not None]

    assert [(c.event, c.failing_since) for c in told] == [
        (HealthEvent.FAILING, T0),
        (HealthEvent.STILL_FAILING, T0),  # after 15 min
        (HealthEvent.STILL_FAILING, T0),  # 30 min
        (HealthEvent.STILL_FAILING, T0),  # 45 min
    ]


def test_a_reminder_comes_only_after_the_reminder_interval() -> None:
    watch = health()
    watch.failed(T0, REFUSED)

    assert watch.failed(at(15 * 60 - 1), REFUSED) is None
    assert watch.failed(at(15 * 60), REFUSED) == HealthChange(
        HealthEvent.STILL_FAILING, REFUSED, T0
    )


def test_a_new_reason_is_told_but_not_more_than_once_a_minute() -> None:
    watch = health()
    watch.failed(T0, REFUSED)

    assert watch.failed(at(30), DROPPED) is None, "within a minute of the last line"
    assert watch.failed(at(60), DROPPED) == HealthChange(HealthEvent.STILL_FAILING, DROPPED, T0)
    assert watch.failed(at(61), DROPPED) is None, "the same reason again"
    # Two reasons taking turns every second give one line a minute, not one a second.
    told = [watch.failed(at(62 + s), (REFUSED, DROPPED)[s % 2]) for s in range(120)]
    assert len([change for change in told if change is not None]) == 2


def test_recovery_is_told_once_with_when_the_outage_began_and_its_last_reason() -> None:
    watch = health()
    watch.failed(T0, REFUSED)
    assert watch.failed(at(30), DROPPED) is None  # not told (within a minute of the first)...

    # ...but it is the last reason seen when delivery recovers.
    assert watch.cleared(at(100)) == HealthChange(HealthEvent.RECOVERED, DROPPED, T0)
    assert not watch.failing
    assert watch.cleared(at(101)) is None


def test_clearing_while_healthy_tells_nothing() -> None:
    assert health().cleared(T0) is None


def test_a_new_outage_after_recovery_is_told_from_its_own_start() -> None:
    watch = health()
    watch.failed(T0, REFUSED)
    watch.cleared(at(10))

    assert watch.failed(at(20), DROPPED) == HealthChange(HealthEvent.FAILING, DROPPED, at(20))
