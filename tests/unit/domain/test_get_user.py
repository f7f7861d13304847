"""GetUser: your own profile, or anyone's for a superuser; nobody can probe which ids
exist."""

from __future__ import annotations

import uuid

import pytest

from neodyme_domain import Forbidden, UserNotFound
from neodyme_domain.use_cases import GetUser, GetUserQuery, Registered


async def test_a_user_reads_their_own_profile(get_user: GetUser, alice: Registered) -> None:
    user = await get_user(GetUserQuery(requester=alice.user, user_id=alice.user.id))

    assert user == alice.user


async def test_a_user_may_not_read_another_users_profile(
    get_user: GetUser, alice: Registered, bob: Registered
) -> None:
    with pytest.raises(Forbidden) as raised:
        await get_user(GetUserQuery(requester=alice.user, user_id=bob.user.id))

    assert raised.value.code == "FORBIDDEN"
    assert raised.value.context == {"requester": alice.user.id, "target": bob.user.id}


async def test_a_missing_id_is_forbidden_exactly_like_an_existing_one(
    get_user: GetUser, alice: Registered, bob: Registered
) -> None:
    with pytest.raises(Forbidden) as existing:
        await get_user(GetUserQuery(requester=alice.user, user_id=bob.user.id))
    with pytest.raises(Forbidden) as missing:
        await get_user(GetUserQuery(requester=alice.user, user_id=uuid.uuid4()))

    assert type(missing.value) is type(existing.value)
    assert missing.value.code == existing.value.code
    assert missing.value.message == existing.value.message
    assert missing.value.details == existing.value.details == {}


async def test_a_superuser_reads_any_profile(
    get_user: GetUser, admin: Registered, alice: Registered
) -> None:
    user = await get_user(GetUserQuery(requester=admin.user, user_id=alice.user.id))

    assert user == alice.user


async def test_a_superuser_reads_their_own_profile(get_user: GetUser, admin: Registered) -> None:
    user = await get_user(GetUserQuery(requester=admin.user, user_id=admin.user.id))

    assert user == admin.user


async def test_a_superuser_asking_for_a_missing_id_gets_not_found(
    get_user: GetUser, admin: Registered
) -> None:
    missing = uuid.uuid4()

    with pytest.raises(UserNotFound) as raised:
        await get_user(GetUserQuery(requester=admin.user, user_id=missing))

    assert raised.value.code == "USER_NOT_FOUND"
    assert raised.value.context["user_id"] == missing
