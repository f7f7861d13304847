"""SessionStore, through the UnitOfWork, for every adapter."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from neodyme_domain.model import User
from neodyme_domain.sessions.model import Session
from tests.contract.conftest import UowFactory

START = datetime(2031, 5, 4, 10, 0, 0, 123456, tzinfo=UTC)
DEVICE = ("Firefox/140.0", "192.0.2.7")


def a_session(owner: User, *, at: datetime = START, **changes: object) -> Session:
    session = Session(
        id=secrets.token_urlsafe(16),
        user_id=owner.id,
        created_at=at,
        last_used_at=at,
        expires_at=at + timedelta(days=14),
        user_agent=DEVICE[0],
        client_ip=DEVICE[1],
    )
    return replace(session, **changes)  # type: ignore[arg-type]


async def add(uow_factory: UowFactory, *sessions: Session) -> None:
    async with uow_factory() as uow:
        for session in sessions:
            await uow.sessions.add(session)
        await uow.commit()


async def get(uow_factory: UowFactory, session_id: str) -> Session | None:
    async with uow_factory() as uow:
        return await uow.sessions.get(session_id)


async def end(uow_factory: UowFactory, session_id: str, at: datetime) -> bool:
    async with uow_factory() as uow:
        ended = await uow.sessions.end(session_id, at)
        await uow.commit()
    return ended


async def live(uow_factory: UowFactory, owner: User, now: datetime) -> list[str]:
    async with uow_factory() as uow:
        return [s.id for s in await uow.sessions.list_live(owner.id, now)]


async def test_a_session_round_trips_every_field(uow_factory: UowFactory, owner: User) -> None:
    session = a_session(owner, ended_at=START + timedelta(hours=2))
    bare = a_session(owner, user_agent=None, client_ip=None)
    await add(uow_factory, session, bare)

    assert await get(uow_factory, session.id) == session
    assert await get(uow_factory, bare.id) == bare
    assert await get(uow_factory, "no-such-session") is None


async def test_touch_moves_the_last_use_forward_only(uow_factory: UowFactory, owner: User) -> None:
    session = a_session(owner)
    await add(uow_factory, session)

    async with uow_factory() as uow:
        await uow.sessions.touch(session.id, START + timedelta(minutes=20))
        await uow.sessions.touch(session.id, START + timedelta(minutes=5))
        await uow.commit()

    found = await get(uow_factory, session.id)
    assert found == replace(session, last_used_at=START + timedelta(minutes=20))


async def test_list_live_leaves_out_ended_expired_and_other_users_sessions(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    other = stranger
    older = a_session(owner, id="b-older")
    newer = a_session(owner, id="a-newer", last_used_at=START + timedelta(hours=1))
    tie = a_session(owner, id="c-tie")
    ended = a_session(owner, ended_at=START)
    expired = a_session(owner, id="d-expired", expires_at=START + timedelta(minutes=1))
    await add(uow_factory, older, newer, tie, ended, expired, a_session(other))

    now = START + timedelta(minutes=1)
    assert await live(uow_factory, owner, now) == ["a-newer", "b-older", "c-tie"]
    just_before = now - timedelta(microseconds=1)
    assert await live(uow_factory, owner, just_before) == [
        "a-newer",
        "b-older",
        "c-tie",
        "d-expired",
    ]


async def test_end_succeeds_once(uow_factory: UowFactory, owner: User) -> None:
    session = a_session(owner)
    await add(uow_factory, session)
    at = START + timedelta(hours=3)

    assert await end(uow_factory, session.id, at) is True
    assert await end(uow_factory, session.id, at + timedelta(seconds=1)) is False
    assert await end(uow_factory, "no-such-session", at) is False
    assert await get(uow_factory, session.id) == replace(session, ended_at=at)


async def test_concurrent_ends_let_exactly_one_caller_win(
    uow_factory: UowFactory, owner: User
) -> None:
    session = a_session(owner)
    await add(uow_factory, session)

    outcomes = await asyncio.gather(
        *(end(uow_factory, session.id, START + timedelta(seconds=i)) for i in range(8))
    )

    assert sorted(outcomes) == [False] * 7 + [True]


async def test_end_all_for_user_keeps_the_one_asked_and_other_users(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    other = stranger
    kept, first, second = (a_session(owner, id=name) for name in ("kept", "s1", "s2"))
    already = a_session(owner, ended_at=START)
    foreign = a_session(other)
    await add(uow_factory, kept, first, second, already, foreign)
    at = START + timedelta(hours=1)

    async with uow_factory() as uow:
        ended = await uow.sessions.end_all_for_user(owner.id, at, keep="kept")
        await uow.commit()

    assert ended == ["s1", "s2"]
    assert await live(uow_factory, owner, at) == ["kept"]
    assert await get(uow_factory, already.id) == already  # its end time stays
    assert await get(uow_factory, foreign.id) == foreign
    async with uow_factory() as uow:
        assert await uow.sessions.end_all_for_user(owner.id, at) == ["kept"]
        await uow.commit()
    assert await live(uow_factory, owner, at) == []


async def test_has_any_counts_ended_sessions_too(uow_factory: UowFactory, owner: User) -> None:
    async with uow_factory() as uow:
        assert await uow.sessions.has_any(owner.id) is False
    await add(uow_factory, a_session(owner, ended_at=START))
    async with uow_factory() as uow:
        assert await uow.sessions.has_any(owner.id) is True


async def test_seen_device_matches_agent_and_address_used_since(
    uow_factory: UowFactory, owner: User
) -> None:
    used = START + timedelta(days=3)
    await add(
        uow_factory,
        a_session(owner, last_used_at=used, ended_at=used),
        a_session(owner, user_agent=None, client_ip=None),
    )

    async def seen(agent: str | None, ip: str | None, since: datetime) -> bool:
        async with uow_factory() as uow:
            return await uow.sessions.seen_device(owner.id, agent, ip, since)

    assert await seen(*DEVICE, used) is True  # an ended session still counts
    assert await seen(*DEVICE, used + timedelta(microseconds=1)) is False
    assert await seen(DEVICE[0], "192.0.2.8", START) is False
    assert await seen("Chrome/141.0", DEVICE[1], START) is False
    assert await seen(None, None, START) is True  # None matches None
    assert await seen(DEVICE[0], None, START) is False
    assert await seen(None, None, START + timedelta(microseconds=1)) is False


async def test_sessions_go_with_their_user(uow_factory: UowFactory, owner: User) -> None:
    session = a_session(owner)
    await add(uow_factory, session)

    async with uow_factory() as uow:
        await uow.users.delete(owner.id)
        await uow.commit()

    assert await get(uow_factory, session.id) is None


async def test_a_session_is_read_with_its_user(uow_factory: UowFactory, owner: User) -> None:
    session = a_session(owner, ended_at=START + timedelta(hours=1))
    await add(uow_factory, session)

    async with uow_factory() as uow:
        found = await uow.sessions.get_with_user(session.id)
        stored_owner = await uow.users.get(owner.id)
        missing = await uow.sessions.get_with_user("no-such-session")

    assert found == (session, stored_owner)
    assert missing is None
