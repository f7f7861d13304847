"""Sessions: each sign-in is one, listed by its owner (or a superuser) and ended by them;
an ended session's access tokens are refused on the next request, its refresh tokens too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    Forbidden,
    InvalidToken,
    RequestOrigin,
    SessionNotFound,
    TokenReused,
    UserNotFound,
)
from neodyme_domain.model import new_id
from neodyme_domain.sessions.end_other_sessions import EndOtherSessions, EndOtherSessionsCommand
from neodyme_domain.sessions.end_session import EndSession, EndSessionCommand
from neodyme_domain.sessions.list_sessions import ListSessions, SessionsQuery
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    Authenticated,
    AuthenticateUser,
    ChangePassword,
    ChangePasswordCommand,
    CurrentUserQuery,
    GetCurrentUser,
    Logout,
    LogoutCommand,
    RefreshCommand,
    RefreshTokens,
    Registered,
    SetUserActive,
    SetUserActiveCommand,
)
from tests.unit.domain.helpers import NEW_PASSWORD, PASSWORD, events_of

PHONE = RequestOrigin(client_ip="198.51.100.4", user_agent="Phone/1.0")
LAPTOP = RequestOrigin(client_ip="203.0.113.9", user_agent="Laptop/2.0")


@pytest.fixture
def list_sessions(database: MemoryDatabase, clock: ManualClock) -> ListSessions:
    return ListSessions(uow=InMemoryUnitOfWork(database), clock=clock)


@pytest.fixture
def end_session(database: MemoryDatabase, clock: ManualClock) -> EndSession:
    return EndSession(uow=InMemoryUnitOfWork(database), clock=clock)


@pytest.fixture
def end_others(database: MemoryDatabase, clock: ManualClock) -> EndOtherSessions:
    return EndOtherSessions(uow=InMemoryUnitOfWork(database), clock=clock)


async def sign_in(
    authenticate_user: AuthenticateUser, email: str, origin: RequestOrigin
) -> Authenticated:
    return await authenticate_user(AuthenticateCommand(email, PASSWORD, origin))


async def sid(get_current_user: GetCurrentUser, access_token: str) -> str:
    return (await get_current_user.with_session(CurrentUserQuery(access_token))).session_id


async def refused(get_current_user: GetCurrentUser, access_token: str) -> None:
    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(access_token))


async def test_each_sign_in_is_a_session_listed_newest_first_with_the_callers_marked(
    authenticate_user: AuthenticateUser,
    get_current_user: GetCurrentUser,
    list_sessions: ListSessions,
    clock: ManualClock,
    alice: Registered,
) -> None:
    start = clock.now()
    clock.advance(timedelta(minutes=1))
    phone = await sign_in(authenticate_user, "alice@example.com", PHONE)
    clock.advance(timedelta(minutes=1))
    laptop = await sign_in(authenticate_user, "alice@example.com", LAPTOP)
    phone_sid = await sid(get_current_user, phone.tokens.access_token)

    views = await list_sessions(SessionsQuery(alice.user, alice.user.id, phone_sid))

    assert [(v.session.user_agent, v.session.client_ip, v.current) for v in views] == [
        ("Laptop/2.0", "203.0.113.9", False),
        ("Phone/1.0", "198.51.100.4", True),
        (None, None, False),  # the registration's (an in-process call: no origin)
    ]
    assert [v.session.created_at for v in views] == [
        start + timedelta(minutes=2),
        start + timedelta(minutes=1),
        start,
    ]
    assert views[0].session.id == await sid(get_current_user, laptop.tokens.access_token)


async def test_a_refresh_keeps_the_session_and_moves_its_last_use(
    authenticate_user: AuthenticateUser,
    refresh_tokens: RefreshTokens,
    get_current_user: GetCurrentUser,
    list_sessions: ListSessions,
    clock: ManualClock,
    alice: Registered,
) -> None:
    phone = await sign_in(authenticate_user, "alice@example.com", PHONE)
    session_id = await sid(get_current_user, phone.tokens.access_token)
    clock.advance(timedelta(minutes=30))

    refreshed = await refresh_tokens(RefreshCommand(phone.tokens.refresh_token))

    assert await sid(get_current_user, refreshed.access_token) == session_id
    views = await list_sessions(SessionsQuery(alice.user, alice.user.id))
    mine = next(v.session for v in views if v.session.id == session_id)
    assert mine.last_used_at == clock.now()
    assert mine.last_used_at - mine.created_at == timedelta(minutes=30)


async def test_ending_a_session_refuses_its_tokens_at_once_and_keeps_the_others(
    authenticate_user: AuthenticateUser,
    refresh_tokens: RefreshTokens,
    get_current_user: GetCurrentUser,
    end_session: EndSession,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    phone = await sign_in(authenticate_user, "alice@example.com", PHONE)
    phone_sid = await sid(get_current_user, phone.tokens.access_token)

    await end_session(EndSessionCommand(alice.user, alice.user.id, phone_sid, LAPTOP))

    await refused(get_current_user, phone.tokens.access_token)
    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(phone.tokens.refresh_token))
    assert await get_current_user(CurrentUserQuery(alice.tokens.access_token)) == alice.user
    [event] = events_of(database, "session_ended")
    assert (event.user_id, event.data, event.user_agent) == (
        alice.user.id,
        {"session_id": phone_sid, "by": "user"},
        "Laptop/2.0",
    )


async def test_an_unknown_ended_or_foreign_session_is_not_found(
    authenticate_user: AuthenticateUser,
    get_current_user: GetCurrentUser,
    end_session: EndSession,
    alice: Registered,
    bob: Registered,
) -> None:
    bobs = await sid(get_current_user, bob.tokens.access_token)
    phone = await sign_in(authenticate_user, "alice@example.com", PHONE)
    phone_sid = await sid(get_current_user, phone.tokens.access_token)
    await end_session(EndSessionCommand(alice.user, alice.user.id, phone_sid))

    for session_id in ("no-such-session", phone_sid, bobs):
        with pytest.raises(SessionNotFound) as raised:
            await end_session(EndSessionCommand(alice.user, alice.user.id, session_id))
        assert raised.value.code == "SESSION_NOT_FOUND"
    assert await get_current_user(CurrentUserQuery(bob.tokens.access_token)) == bob.user


async def test_signing_out_everywhere_else_keeps_only_the_callers_session(
    authenticate_user: AuthenticateUser,
    get_current_user: GetCurrentUser,
    list_sessions: ListSessions,
    end_others: EndOtherSessions,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    phone = await sign_in(authenticate_user, "alice@example.com", PHONE)
    laptop = await sign_in(authenticate_user, "alice@example.com", LAPTOP)
    laptop_sid = await sid(get_current_user, laptop.tokens.access_token)

    ended = await end_others(EndOtherSessionsCommand(alice.user, alice.user.id, laptop_sid))

    assert ended == 2
    await refused(get_current_user, phone.tokens.access_token)
    await refused(get_current_user, alice.tokens.access_token)
    await get_current_user(CurrentUserQuery(laptop.tokens.access_token))
    views = await list_sessions(SessionsQuery(alice.user, alice.user.id, laptop_sid))
    assert [(v.session.id, v.current) for v in views] == [(laptop_sid, True)]
    assert len(events_of(database, "session_ended")) == 2
    assert await end_others(EndOtherSessionsCommand(alice.user, alice.user.id, laptop_sid)) == 0


async def test_a_superuser_lists_and_ends_a_users_sessions_as_admin(
    get_current_user: GetCurrentUser,
    list_sessions: ListSessions,
    end_session: EndSession,
    end_others: EndOtherSessions,
    database: MemoryDatabase,
    alice: Registered,
    admin: Registered,
) -> None:
    [view] = await list_sessions(SessionsQuery(admin.user, alice.user.id))
    assert view.current is False

    await end_session(EndSessionCommand(admin.user, alice.user.id, view.session.id))

    await refused(get_current_user, alice.tokens.access_token)
    assert [e.data["by"] for e in events_of(database, "session_ended")] == ["admin"]
    assert await end_others(EndOtherSessionsCommand(admin.user, alice.user.id, None)) == 0
    await get_current_user(CurrentUserQuery(admin.tokens.access_token))


async def test_others_sessions_are_forbidden_to_a_user_and_unknown_ids_to_an_admin(
    list_sessions: ListSessions,
    end_session: EndSession,
    end_others: EndOtherSessions,
    get_current_user: GetCurrentUser,
    alice: Registered,
    bob: Registered,
    admin: Registered,
) -> None:
    bobs = await sid(get_current_user, bob.tokens.access_token)
    with pytest.raises(Forbidden):
        await list_sessions(SessionsQuery(alice.user, bob.user.id))
    with pytest.raises(Forbidden):
        await end_session(EndSessionCommand(alice.user, bob.user.id, bobs))
    with pytest.raises(Forbidden):
        await end_others(EndOtherSessionsCommand(alice.user, bob.user.id, None))
    with pytest.raises(UserNotFound):
        await list_sessions(SessionsQuery(admin.user, new_id()))
    await get_current_user(CurrentUserQuery(bob.tokens.access_token))


async def test_logout_ends_the_session_and_its_access_token(
    logout: Logout, get_current_user: GetCurrentUser, alice: Registered
) -> None:
    await logout(LogoutCommand(alice.tokens.refresh_token))

    await refused(get_current_user, alice.tokens.access_token)


async def test_a_reused_refresh_token_ends_the_session_and_the_fresh_access_token(
    refresh_tokens: RefreshTokens,
    get_current_user: GetCurrentUser,
    list_sessions: ListSessions,
    alice: Registered,
) -> None:
    refreshed = await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))

    with pytest.raises(TokenReused):
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))

    await refused(get_current_user, refreshed.access_token)
    assert await list_sessions(SessionsQuery(alice.user, alice.user.id)) == []


async def test_a_password_change_or_deactivation_ends_every_session(
    authenticate_user: AuthenticateUser,
    change_password: ChangePassword,
    set_user_active: SetUserActive,
    list_sessions: ListSessions,
    alice: Registered,
    bob: Registered,
    admin: Registered,
) -> None:
    await sign_in(authenticate_user, "alice@example.com", PHONE)
    await change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD))
    await set_user_active(SetUserActiveCommand(admin.user, bob.user.id, False))

    assert await list_sessions(SessionsQuery(admin.user, alice.user.id)) == []
    assert await list_sessions(SessionsQuery(admin.user, bob.user.id)) == []


async def test_a_session_past_its_absolute_expiry_is_no_longer_listed(
    list_sessions: ListSessions,
    tokens: JwtTokenService,
    clock: ManualClock,
    alice: Registered,
) -> None:
    clock.advance(tokens.refresh_ttl - timedelta(microseconds=1))
    assert len(await list_sessions(SessionsQuery(alice.user, alice.user.id))) == 1

    clock.advance(timedelta(microseconds=1))
    assert await list_sessions(SessionsQuery(alice.user, alice.user.id)) == []


# --- new-device notices -----------------------------------------------------------------


WINDOW = timedelta(days=30)


@pytest.fixture
def watchful_login(
    database: MemoryDatabase, hasher: Argon2Hasher, tokens: JwtTokenService, clock: ManualClock
) -> AuthenticateUser:
    return AuthenticateUser(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        new_device_window=WINDOW,
    )


def notices(database: MemoryDatabase) -> list[str]:
    return [
        entry.message.data["user_agent"]
        for entry in database.outbox
        if entry.message.kind == "new_device_sign_in"
    ]


async def test_a_sign_in_from_a_device_unseen_within_the_window_is_told_by_e_mail(
    watchful_login: AuthenticateUser,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    await sign_in(watchful_login, "alice@example.com", PHONE)
    await sign_in(watchful_login, "alice@example.com", PHONE)  # seen now
    clock.advance(WINDOW)
    await sign_in(watchful_login, "alice@example.com", PHONE)  # seen exactly WINDOW ago
    clock.advance(WINDOW + timedelta(microseconds=1))
    await sign_in(watchful_login, "alice@example.com", PHONE)  # forgotten since

    assert notices(database) == ["Phone/1.0", "Phone/1.0"]
    notice = next(e.message for e in database.outbox if e.message.kind == "new_device_sign_in")
    assert notice.to == "alice@example.com"
    assert "Phone/1.0, from 198.51.100.4" in notice.body


async def test_another_address_with_the_same_agent_is_a_new_device(
    watchful_login: AuthenticateUser, database: MemoryDatabase, alice: Registered
) -> None:
    await sign_in(watchful_login, "alice@example.com", PHONE)
    await sign_in(watchful_login, "alice@example.com", RequestOrigin("198.51.100.5", "Phone/1.0"))

    assert notices(database) == ["Phone/1.0", "Phone/1.0"]


async def test_no_notice_for_the_registrations_device_or_without_a_window(
    watchful_login: AuthenticateUser,
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    await sign_in(watchful_login, "alice@example.com", RequestOrigin())  # as registered
    await sign_in(authenticate_user, "alice@example.com", LAPTOP)  # no window: no notices

    assert notices(database) == []


async def test_the_first_session_of_an_account_is_no_new_device(
    watchful_login: AuthenticateUser, database: MemoryDatabase, alice: Registered
) -> None:
    # An account with no session on record (one from before sessions existed, whose
    # refresh tokens had all been purged): no port deletes sessions, so the state does.
    database.state.sessions.clear()

    await sign_in(watchful_login, "alice@example.com", PHONE)

    assert notices(database) == []


async def test_a_token_of_an_unknown_or_anothers_session_is_refused(
    get_current_user: GetCurrentUser,
    tokens: JwtTokenService,
    clock: ManualClock,
    alice: Registered,
    bob: Registered,
) -> None:
    bobs = await sid(get_current_user, bob.tokens.access_token)
    for session_id in ("no-such-session", bobs):
        forged = tokens.issue_access(alice.user, clock.now(), session_id)
        with pytest.raises(InvalidToken) as refused:
            await get_current_user(CurrentUserQuery(forged))
        assert refused.value.context == {"user_id": alice.user.id, "reason": "no such session"}


async def test_ending_is_recorded_when_and_refused_with_the_owner_named(
    end_session: EndSession,
    get_current_user: GetCurrentUser,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    session_id = await sid(get_current_user, alice.tokens.access_token)
    clock.advance(timedelta(minutes=3))

    await end_session(EndSessionCommand(alice.user, alice.user.id, session_id))

    [event] = events_of(database, "session_ended")
    assert event.occurred_at == clock.now()
    with pytest.raises(InvalidToken) as ended:
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    assert ended.value.context == {"user_id": alice.user.id, "reason": "session ended"}
    with pytest.raises(SessionNotFound) as refused:
        await end_session(EndSessionCommand(alice.user, alice.user.id, session_id))
    assert refused.value.context == {"user_id": alice.user.id}


async def test_the_others_refresh_tokens_are_revoked_and_the_callers_kept(
    authenticate_user: AuthenticateUser,
    refresh_tokens: RefreshTokens,
    get_current_user: GetCurrentUser,
    end_others: EndOtherSessions,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    phone = await sign_in(authenticate_user, "alice@example.com", PHONE)
    laptop = await sign_in(authenticate_user, "alice@example.com", LAPTOP)
    kept = await sid(get_current_user, laptop.tokens.access_token)
    others = {
        await sid(get_current_user, phone.tokens.access_token),
        await sid(get_current_user, alice.tokens.access_token),
    }
    clock.advance(timedelta(minutes=1))

    await end_others(EndOtherSessionsCommand(alice.user, alice.user.id, kept))

    records = database.state.refresh_tokens.values()
    assert {r.family_id for r in records if r.revoked_at == clock.now()} == others
    assert {e.data["session_id"] for e in events_of(database, "session_ended")} == others
    await refresh_tokens(RefreshCommand(laptop.tokens.refresh_token))
