"""ListSecurityEvents: a user's own history, newest first, page by page, with where each
request came from."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_domain import InvalidCredentials, RequestOrigin, SecurityEvent, ValidationFailed
from neodyme_domain.pagination import PageRequest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    ListSecurityEvents,
    Registered,
    SecurityEventsQuery,
    UpdateProfile,
    UpdateProfileCommand,
)
from tests.unit.domain.helpers import PASSWORD

LAPTOP = RequestOrigin(client_ip="198.51.100.1", user_agent="Firefox")
PHONE = RequestOrigin(client_ip="2001:db8::1", user_agent="Safari")
THIEF = RequestOrigin(client_ip="203.0.113.66", user_agent="curl/8.0")


async def history(
    list_security_events: ListSecurityEvents, registered: Registered
) -> list[SecurityEvent]:
    page = await list_security_events(SecurityEventsQuery(registered.user))
    return page.items


async def test_a_user_sees_their_events_newest_first(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    update_profile: UpdateProfile,
    alice: Registered,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=1))
    await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD, LAPTOP))
    clock.advance(timedelta(minutes=1))
    await update_profile(UpdateProfileCommand(alice.user, "Alice P. Liddell", PHONE))

    events = await history(list_security_events, alice)

    assert [e.type for e in events] == ["profile_updated", "user_login", "user_registration"]
    assert [e.occurred_at for e in events] == sorted((e.occurred_at for e in events), reverse=True)


async def test_a_user_sees_only_their_own_events(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    bob: Registered,
) -> None:
    await authenticate_user(AuthenticateCommand("bob@example.com", PASSWORD, PHONE))

    events = await history(list_security_events, alice)

    assert {e.user_id for e in events} == {alice.user.id}
    assert [e.type for e in events] == ["user_registration"]


async def test_failed_logins_against_the_account_are_in_its_history(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(seconds=5))
    with pytest.raises(InvalidCredentials):
        await authenticate_user(AuthenticateCommand("ALICE@example.com", "Guess123!", THIEF))

    [failed, _registration] = await history(list_security_events, alice)

    assert failed.type == "login_failed"
    assert failed.data["reason"] == "invalid_password"
    assert failed.data["email"] == "ALICE@example.com"
    assert (failed.client_ip, failed.user_agent) == ("203.0.113.66", "curl/8.0")
    assert failed.occurred_at == clock.now()


async def test_failed_logins_for_unknown_addresses_are_nobodys_history(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    alice: Registered,
) -> None:
    with pytest.raises(InvalidCredentials):
        await authenticate_user(AuthenticateCommand("alicia@example.com", PASSWORD, THIEF))

    assert [e.type for e in await history(list_security_events, alice)] == ["user_registration"]


async def test_events_carry_the_origin_of_the_request_that_caused_them(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(seconds=1))
    await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD, LAPTOP))
    clock.advance(timedelta(seconds=1))
    await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD, PHONE))

    phone, laptop, registration = await history(list_security_events, alice)

    assert (phone.client_ip, phone.user_agent) == ("2001:db8::1", "Safari")
    assert (laptop.client_ip, laptop.user_agent) == ("198.51.100.1", "Firefox")
    # Registered in-process, without an origin.
    assert (registration.client_ip, registration.user_agent) == (None, None)


async def test_history_pages_newest_first_and_the_last_page_has_no_cursor(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    clock: ManualClock,
) -> None:
    for _ in range(4):
        clock.advance(timedelta(seconds=1))
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD, LAPTOP))
    everything = await history(list_security_events, alice)

    first = await list_security_events(SecurityEventsQuery(alice.user, PageRequest(limit=2)))
    second = await list_security_events(
        SecurityEventsQuery(alice.user, PageRequest(2, first.next_cursor))
    )
    third = await list_security_events(
        SecurityEventsQuery(alice.user, PageRequest(2, second.next_cursor))
    )

    assert len(everything) == 5
    assert first.items + second.items + third.items == everything
    assert first.next_cursor is not None
    assert second.next_cursor is not None
    assert third.next_cursor is None
    assert len(third.items) == 1


async def test_events_at_the_same_instant_are_each_listed_once_across_pages(
    list_security_events: ListSecurityEvents,
    authenticate_user: AuthenticateUser,
    alice: Registered,
) -> None:
    # The clock does not move: every event shares one timestamp, and the id breaks ties.
    for _ in range(5):
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD, LAPTOP))

    seen: list[SecurityEvent] = []
    cursor = None
    while True:
        page = await list_security_events(
            SecurityEventsQuery(alice.user, PageRequest(limit=2, cursor=cursor))
        )
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert len(seen) == 6
    assert len({e.id for e in seen}) == 6


@pytest.mark.parametrize("limit", [0, 201])
async def test_a_limit_outside_1_to_200_is_a_validation_error(
    list_security_events: ListSecurityEvents, alice: Registered, limit: int
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await list_security_events(SecurityEventsQuery(alice.user, PageRequest(limit=limit)))

    assert raised.value.field == "limit"


async def test_a_bad_cursor_is_a_validation_error(
    list_security_events: ListSecurityEvents, alice: Registered
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await list_security_events(SecurityEventsQuery(alice.user, PageRequest(cursor="%%%")))

    assert raised.value.field == "cursor"
