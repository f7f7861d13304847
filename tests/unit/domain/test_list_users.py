"""ListUsers: superusers page through every account, oldest first, with opaque cursors."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_domain import Forbidden, User, ValidationFailed
from neodyme_domain.pagination import PageRequest
from neodyme_domain.use_cases import (
    ListUsers,
    ListUsersQuery,
    RegisterCommand,
    Registered,
    RegisterUser,
)
from tests.unit.domain.helpers import PASSWORD, b64


async def register_many(
    register_user: RegisterUser, clock: ManualClock, count: int, *, step: timedelta
) -> list[User]:
    users = []
    for n in range(count):
        clock.advance(step)
        registered = await register_user(
            RegisterCommand(f"user{n}@example.com", f"User {n}", PASSWORD)
        )
        users.append(registered.user)
    return users


async def walk(list_users: ListUsers, requester: User, limit: int) -> list[list[User]]:
    """Every page, following next_cursor until it is None."""
    pages = []
    cursor = None
    while True:
        page = await list_users(ListUsersQuery(requester, PageRequest(limit, cursor)))
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def in_listing_order(users: list[User]) -> list[uuid.UUID]:
    return [u.id for u in sorted(users, key=lambda u: (u.created_at, u.id))]


async def test_a_superuser_lists_every_account_oldest_first(
    list_users: ListUsers,
    register_user: RegisterUser,
    admin: Registered,
    clock: ManualClock,
) -> None:
    others = await register_many(register_user, clock, 3, step=timedelta(minutes=1))

    page = await list_users(ListUsersQuery(admin.user))

    assert [u.id for u in page.items] == [admin.user.id, *(u.id for u in others)]
    assert page.next_cursor is None


async def test_pages_follow_creation_time_then_id_and_the_last_has_no_cursor(
    list_users: ListUsers,
    register_user: RegisterUser,
    admin: Registered,
    clock: ManualClock,
) -> None:
    users = [admin.user, *await register_many(register_user, clock, 6, step=timedelta(0))]

    pages = await walk(list_users, admin.user, limit=3)

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [u.id for p in pages for u in p] == in_listing_order(users)


async def test_an_exactly_full_last_page_has_no_cursor(
    list_users: ListUsers,
    register_user: RegisterUser,
    admin: Registered,
    clock: ManualClock,
) -> None:
    await register_many(register_user, clock, 3, step=timedelta(seconds=1))

    first = await list_users(ListUsersQuery(admin.user, PageRequest(limit=2)))
    second = await list_users(ListUsersQuery(admin.user, PageRequest(2, first.next_cursor)))

    assert first.next_cursor is not None
    assert len(second.items) == 2
    assert second.next_cursor is None


async def test_accounts_created_while_paging_come_after_the_position(
    list_users: ListUsers,
    register_user: RegisterUser,
    admin: Registered,
    clock: ManualClock,
) -> None:
    existing = [
        admin.user,
        *await register_many(register_user, clock, 3, step=timedelta(seconds=1)),
    ]
    first = await list_users(ListUsersQuery(admin.user, PageRequest(limit=2)))
    clock.advance(timedelta(minutes=1))
    late = await register_user(RegisterCommand("late@example.com", "Late Comer", PASSWORD))

    rest = await list_users(ListUsersQuery(admin.user, PageRequest(10, first.next_cursor)))

    seen = [u.id for u in first.items + rest.items]
    assert seen == [*in_listing_order(existing), late.user.id]


async def test_the_default_page_holds_fifty(
    list_users: ListUsers,
    register_user: RegisterUser,
    admin: Registered,
    clock: ManualClock,
) -> None:
    await register_many(register_user, clock, 50, step=timedelta(seconds=1))

    page = await list_users(ListUsersQuery(admin.user))

    assert len(page.items) == 50
    assert page.next_cursor is not None


async def test_a_user_who_is_not_a_superuser_may_not_list(
    list_users: ListUsers, alice: Registered
) -> None:
    with pytest.raises(Forbidden) as raised:
        await list_users(ListUsersQuery(alice.user))

    assert raised.value.code == "FORBIDDEN"
    assert raised.value.context == {"requester": alice.user.id, "action": "list users"}


async def test_a_non_superuser_is_refused_before_the_page_is_checked(
    list_users: ListUsers, alice: Registered
) -> None:
    with pytest.raises(Forbidden):
        await list_users(ListUsersQuery(alice.user, PageRequest(0, "garbage")))


@pytest.mark.parametrize("limit", [0, -1, 201, 10_000])
async def test_a_limit_outside_1_to_200_is_a_validation_error(
    list_users: ListUsers, admin: Registered, limit: int
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await list_users(ListUsersQuery(admin.user, PageRequest(limit=limit)))

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.field == "limit"
    assert raised.value.details == {
        "fields": [{"field": "limit", "message": "must be between 1 and 200"}]
    }


@pytest.mark.parametrize("limit", [1, 200])
async def test_limits_of_1_and_200_are_accepted(
    list_users: ListUsers, admin: Registered, limit: int
) -> None:
    page = await list_users(ListUsersQuery(admin.user, PageRequest(limit=limit)))

    assert [u.id for u in page.items] == [admin.user.id]


NOBODY = uuid.UUID("5a96ab70-038e-4462-9670-eebaa902f418")
"""An id no account has. Fixed, not drawn at import: the test ids it ends up in must be the
same in every pytest-xdist worker."""


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGEgY3Vyc29y",  # "not a cursor"
        b64("2026-01-01T00:00:00+00:00|not-a-uuid"),
        b64(f"yesterday|{NOBODY}"),
        b64(f"2026-01-01T00:00:00|{NOBODY}"),  # no timezone: never issued by us
        b64(f"0001-01-01T00:00:00+14:00|{NOBODY}"),  # before UTC's year 1
        b64(f"9999-12-31T23:59:59-14:00|{NOBODY}"),  # after UTC's year 9999
        "////",
        "\u00e9t\u00e9",
    ],
)
async def test_a_cursor_this_server_did_not_issue_is_a_validation_error(
    list_users: ListUsers, admin: Registered, cursor: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await list_users(ListUsersQuery(admin.user, PageRequest(cursor=cursor)))

    assert raised.value.field == "cursor"
    assert raised.value.details["fields"][0]["field"] == "cursor"


async def test_a_cursor_is_opaque_text_safe_in_a_url(
    list_users: ListUsers,
    register_user: RegisterUser,
    admin: Registered,
    clock: ManualClock,
) -> None:
    await register_many(register_user, clock, 2, step=timedelta(seconds=1))

    page = await list_users(ListUsersQuery(admin.user, PageRequest(limit=1)))

    assert page.next_cursor is not None
    assert set(page.next_cursor) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert str(admin.user.id) not in page.next_cursor


async def test_a_cursor_past_every_account_gives_an_empty_last_page(
    list_users: ListUsers, admin: Registered, clock: ManualClock
) -> None:
    future = (clock.now() + timedelta(days=1)).isoformat()
    cursor = b64(f"{future}|{uuid.uuid4()}")

    page = await list_users(ListUsersQuery(admin.user, PageRequest(cursor=cursor)))

    assert page.items == []
    assert page.next_cursor is None


async def test_listing_shows_the_current_state_of_each_account(
    list_users: ListUsers, admin: Registered, alice: Registered
) -> None:
    page = await list_users(ListUsersQuery(admin.user))

    by_id = {u.id: u for u in page.items}
    assert by_id == {alice.user.id: alice.user, admin.user.id: admin.user}
