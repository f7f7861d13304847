"""Passkeys: adding one (both halves of the registration ceremony), signing in with it
alone or as a login's second factor, and every way either ceremony is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.memory.login_monitor import RecordingLoginMonitor
from neodyme_adapters.webauthn_ceremonies import PyWebAuthnCeremonies
from neodyme_domain.errors import (
    AccountInactive,
    InvalidChallenge,
    InvalidCredentials,
    InvalidToken,
    MfaRequired,
    PasskeyAlreadyRegistered,
    PasskeyInvalid,
    PasskeyNotFound,
    PasskeyRefused,
    ValidationFailed,
)
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.mfa.second_factor import SecondFactor
from neodyme_domain.mfa.verify_mfa import MfaVerification, VerifyMfa
from neodyme_domain.model import User
from neodyme_domain.passkeys.add_passkey import AddPasskey, PasskeyRegistration
from neodyme_domain.passkeys.begin_registration import (
    BeginPasskeyRegistration,
    PasskeyOptionsRequest,
)
from neodyme_domain.passkeys.begin_sign_in import BeginPasskeySignIn, PasskeySignInRequest
from neodyme_domain.passkeys.challenges import challenge_digest
from neodyme_domain.passkeys.list_passkeys import ListPasskeys
from neodyme_domain.passkeys.model import CHALLENGE_TTL, MAX_PASSKEY_NAME, Ceremony
from neodyme_domain.passkeys.remove_passkey import PasskeyRemoval, RemovePasskey
from neodyme_domain.passkeys.rename_passkey import PasskeyRename, RenamePasskey
from neodyme_domain.passkeys.sign_in import PasskeySignIn, SignInWithPasskey, counter_went_back
from neodyme_domain.use_cases import AuthenticateCommand, AuthenticateUser, Registered
from neodyme_domain.use_cases.get_current_user import CurrentUserQuery, GetCurrentUser
from tests.support.authenticator import SoftAuthenticator, b64url, unb64url
from tests.unit.domain.helpers import PASSWORD, events_of, set_active
from tests.unit.domain.passkeys.conftest import ORIGIN, RP, Enrolled


async def _passwordless(
    begin_sign_in: BeginPasskeySignIn, authenticator: SoftAuthenticator, **answer: object
) -> PasskeySignIn:
    options = await begin_sign_in(PasskeySignInRequest())
    return PasskeySignIn(authenticator.get(options, **answer))  # type: ignore[arg-type]


async def _passkeys(database: MemoryDatabase, user: User) -> list[object]:
    async with InMemoryUnitOfWork(database) as uow:
        return list(await uow.passkeys.list_for(user.id))


def _outbox_kinds(database: MemoryDatabase) -> list[str]:
    return [entry.message.kind for entry in database.outbox]


# --- adding a passkey ------------------------------------------------------------------


async def test_options_name_the_relying_party_the_user_and_what_is_registered(
    begin_registration: BeginPasskeyRegistration, with_passkey: Enrolled
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(with_passkey.user, PASSWORD))

    assert options["rp"] == {"id": RP.id, "name": RP.name}
    user = options["user"]
    assert isinstance(user, dict)
    assert user["name"] == "alice@example.com"
    assert user["displayName"] == "Alice Liddell"
    assert user["id"] == b64url(with_passkey.user.id.bytes)  # no e-mail address in it
    assert options["excludeCredentials"] == [
        {"id": with_passkey.passkey.credential_id, "type": "public-key"}
    ]
    selection = options["authenticatorSelection"]
    assert isinstance(selection, dict)
    assert selection["residentKey"] == "required"
    assert selection["userVerification"] == "required"


async def test_a_verified_answer_adds_the_passkey_records_it_and_tells_the_owner(
    with_passkey: Enrolled,
    list_passkeys: ListPasskeys,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    passkey = with_passkey.passkey
    assert await list_passkeys(with_passkey.user) == [passkey]
    assert passkey.name == "Laptop"
    assert passkey.credential_id == with_passkey.credential.id
    assert passkey.sign_count == 0
    assert passkey.transports == ("internal",)
    assert (passkey.backup_eligible, passkey.backed_up) == (False, False)
    assert passkey.aaguid == "00000000-0000-0000-0000-000000000000"
    assert passkey.created_at == clock.now()
    assert passkey.last_used_at is None
    [added] = events_of(database, "passkey_added")
    assert added.user_id == with_passkey.user.id
    assert added.data == {"passkey_id": passkey.id, "name": "Laptop"}
    assert "passkey_added" in _outbox_kinds(database)
    notice = next(e.message for e in database.outbox if e.message.kind == "passkey_added")
    assert 'a passkey named "Laptop" was added' in notice.body


async def test_a_passkey_without_a_name_is_numbered(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(with_passkey.user, PASSWORD))
    second = await add_passkey(
        PasskeyRegistration(with_passkey.user, authenticator.create(options))
    )
    assert second.name == "Passkey 2"


async def test_a_synced_passkey_is_recorded_as_backed_up(
    begin_registration: BeginPasskeyRegistration, add_passkey: AddPasskey, alice: Registered
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    synced = SoftAuthenticator(origin=ORIGIN, counts=False)
    passkey = await add_passkey(PasskeyRegistration(alice.user, synced.create(options)))
    assert (passkey.backup_eligible, passkey.backed_up) == (True, True)


async def test_the_options_keep_their_challenge_for_five_minutes(
    begin_registration: BeginPasskeyRegistration,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    [kept] = database.state.webauthn_challenges.values()
    assert kept.challenge_digest == challenge_digest(unb64url(str(options["challenge"])))
    assert (kept.created_at, kept.expires_at) == (clock.now(), clock.now() + CHALLENGE_TTL)
    assert (kept.user_id, kept.ceremony, kept.used_at) == (
        alice.user.id,
        Ceremony.REGISTRATION,
        None,
    )


async def test_the_options_need_the_password_again(
    begin_registration: BeginPasskeyRegistration, alice: Registered, database: MemoryDatabase
) -> None:
    with pytest.raises(InvalidCredentials):
        await begin_registration(PasskeyOptionsRequest(alice.user, "not the password"))
    assert database.state.webauthn_challenges == {}


@pytest.mark.parametrize(
    ("wrong", "error"),
    [
        ({"origin": "https://evil.example"}, PasskeyInvalid),
        ({"rp_id": "evil.example"}, PasskeyInvalid),
    ],
)
async def test_an_answer_from_elsewhere_is_refused_and_adds_nothing(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    alice: Registered,
    database: MemoryDatabase,
    wrong: dict[str, str],
    error: type[Exception],
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    with pytest.raises(error):
        await add_passkey(PasskeyRegistration(alice.user, authenticator.create(options, **wrong)))
    assert await _passkeys(database, alice.user) == []
    assert events_of(database, "passkey_added") == []


async def test_an_authenticator_that_does_not_verify_the_user_is_refused(
    begin_registration: BeginPasskeyRegistration, add_passkey: AddPasskey, alice: Registered
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    presence_only = SoftAuthenticator(origin=ORIGIN, user_verifying=False)
    with pytest.raises(PasskeyInvalid):
        await add_passkey(PasskeyRegistration(alice.user, presence_only.create(options)))


async def test_a_registration_challenge_is_answered_once(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    alice: Registered,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    answer = authenticator.create(options)
    await add_passkey(PasskeyRegistration(alice.user, answer))
    with pytest.raises(InvalidChallenge):
        await add_passkey(PasskeyRegistration(alice.user, answer))


async def test_a_refused_answer_spends_its_challenge_too(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    alice: Registered,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    with pytest.raises(PasskeyInvalid):
        await add_passkey(
            PasskeyRegistration(alice.user, authenticator.create(options, origin="https://x.y"))
        )
    with pytest.raises(InvalidChallenge):
        await add_passkey(PasskeyRegistration(alice.user, authenticator.create(options)))


async def test_a_registration_challenge_expires(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    alice: Registered,
    clock: ManualClock,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    clock.advance(CHALLENGE_TTL)
    with pytest.raises(InvalidChallenge) as refused:
        await add_passkey(PasskeyRegistration(alice.user, authenticator.create(options)))
    assert refused.value.context == {"ceremony": "registration"}


async def test_another_users_challenge_adds_nothing(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    with pytest.raises(InvalidChallenge) as refused:
        await add_passkey(PasskeyRegistration(bob.user, authenticator.create(options)))
    assert refused.value.context == {"user_id": bob.user.id, "reason": "another user's"}
    assert await _passkeys(database, bob.user) == []


async def test_a_sign_in_challenge_does_not_register(
    begin_sign_in: BeginPasskeySignIn,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
) -> None:
    options = await begin_sign_in(PasskeySignInRequest())
    answer = authenticator.create({**options, "rp": {"id": RP.id}, "user": {"id": "AAAA"}})
    with pytest.raises(InvalidChallenge):
        await add_passkey(PasskeyRegistration(with_passkey.user, answer))


async def test_an_answer_without_a_challenge_is_refused(
    add_passkey: AddPasskey, alice: Registered
) -> None:
    with pytest.raises(InvalidChallenge) as refused:
        await add_passkey(PasskeyRegistration(alice.user, {"id": "x", "response": "nothing"}))
    assert refused.value.context == {"reason": "no challenge in the answer"}


async def test_a_credential_is_registered_once(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(with_passkey.user, PASSWORD))
    again = authenticator.create(options, same_as=with_passkey.credential)
    with pytest.raises(PasskeyAlreadyRegistered) as refused:
        await add_passkey(PasskeyRegistration(with_passkey.user, again))
    assert refused.value.context == {"user_id": with_passkey.user.id}
    assert len(await _passkeys(database, with_passkey.user)) == 1
    assert len(events_of(database, "passkey_added")) == 1


@pytest.mark.parametrize("name", ["", "   ", "a" * (MAX_PASSKEY_NAME + 1), "bad\nname"])
async def test_a_passkey_name_is_a_short_line(
    add_passkey: AddPasskey, alice: Registered, name: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await add_passkey(PasskeyRegistration(alice.user, {}, name))
    assert [each["field"] for each in refused.value.details["fields"]] == ["name"]


# --- signing in --------------------------------------------------------------------------


async def test_a_passkey_signs_its_owner_in_without_a_password(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    get_current_user: GetCurrentUser,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    options = await begin_sign_in(PasskeySignInRequest())
    assert options["allowCredentials"] == []  # discoverable: no account is named
    assert options["rpId"] == RP.id
    clock.advance(timedelta(minutes=1))

    signed_in = await sign_in(PasskeySignIn(authenticator.get(options)))

    assert signed_in.user.id == with_passkey.user.id
    me = await get_current_user(CurrentUserQuery(signed_in.tokens.access_token))
    assert me.id == with_passkey.user.id
    [login] = events_of(database, "user_login")[-1:]
    assert login.data == {
        "email": "alice@example.com",
        "method": "passkey",
        "passkey_id": with_passkey.passkey.id,
    }
    [stored] = await _passkeys(database, with_passkey.user)
    assert stored.sign_count == 1  # type: ignore[attr-defined]
    assert stored.last_used_at == clock.now()  # type: ignore[attr-defined]


async def test_a_passkey_without_a_counter_signs_in_again_and_again(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    synced = SoftAuthenticator(origin=ORIGIN, counts=False)
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    await add_passkey(PasskeyRegistration(alice.user, synced.create(options)))
    for _ in range(2):
        signed_in = await sign_in(await _passwordless(begin_sign_in, synced))
        assert signed_in.user.id == alice.user.id
    [stored] = await ListPasskeys(uow=InMemoryUnitOfWork(database))(alice.user)
    assert (stored.sign_count, stored.backed_up) == (0, True)


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
        {"tamper": True},
    ],
    ids=["origin", "rp-id", "signature"],
)
async def test_an_assertion_that_does_not_verify_is_refused(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
    wrong: dict[str, object],
) -> None:
    with pytest.raises(PasskeyRefused) as refused:
        await sign_in(await _passwordless(begin_sign_in, authenticator, **wrong))
    assert refused.value.context["user_id"] == with_passkey.user.id
    assert refused.value.context["reason"]  # py_webauthn's, for the log
    [stored] = await _passkeys(database, with_passkey.user)
    assert stored.sign_count == 0  # type: ignore[attr-defined]
    assert [e for e in events_of(database, "user_login") if "passkey_id" in e.data] == []


async def test_an_assertion_without_user_verification_is_refused(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
) -> None:
    authenticator.user_verifying = False
    with pytest.raises(PasskeyRefused):
        await sign_in(await _passwordless(begin_sign_in, authenticator))


async def test_an_unknown_credential_is_refused(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    begin_registration: BeginPasskeyRegistration,
    alice: Registered,
) -> None:
    stranger = SoftAuthenticator(origin=ORIGIN)
    stranger.create(await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD)))
    with pytest.raises(PasskeyRefused) as refused:
        await sign_in(await _passwordless(begin_sign_in, stranger))
    assert refused.value.context == {"reason": "unknown credential"}


async def test_an_assertion_is_accepted_once(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
) -> None:
    command = await _passwordless(begin_sign_in, authenticator)
    await sign_in(command)
    with pytest.raises(InvalidChallenge):
        await sign_in(command)


async def test_a_sign_in_challenge_expires(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    clock: ManualClock,
) -> None:
    options = await begin_sign_in(PasskeySignInRequest())
    clock.advance(CHALLENGE_TTL)
    with pytest.raises(InvalidChallenge):
        await sign_in(PasskeySignIn(authenticator.get(options)))


async def test_a_registration_challenge_does_not_sign_in(
    begin_registration: BeginPasskeyRegistration,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
) -> None:
    options = await begin_registration(PasskeyOptionsRequest(with_passkey.user, PASSWORD))
    answer = authenticator.get({**options, "rpId": RP.id})
    with pytest.raises(InvalidChallenge):
        await sign_in(PasskeySignIn(answer))


@pytest.mark.parametrize("reported", [0, 3])
async def test_a_counter_that_goes_back_is_refused_and_recorded(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
    clock: ManualClock,
    reported: int,
) -> None:
    await sign_in(await _passwordless(begin_sign_in, authenticator, sign_count=3))
    with pytest.raises(PasskeyRefused) as refused:
        await sign_in(await _passwordless(begin_sign_in, authenticator, sign_count=reported))
    assert refused.value.context == {
        "user_id": with_passkey.user.id,
        "reason": "counter went back",
    }
    [regressed] = events_of(database, "passkey_counter_regressed")
    assert regressed.user_id == with_passkey.user.id
    assert regressed.occurred_at == clock.now()
    assert regressed.data == {
        "passkey_id": with_passkey.passkey.id,
        "stored": 3,
        "reported": reported,
    }
    [stored] = await _passkeys(database, with_passkey.user)
    assert stored.sign_count == 3  # type: ignore[attr-defined]


def test_the_counter_rule_of_webauthn() -> None:
    assert not counter_went_back(0, 0)  # no counter on either side
    assert not counter_went_back(0, 1)
    assert not counter_went_back(1, 2)
    assert not counter_went_back(4, 5)
    assert counter_went_back(5, 5)
    assert counter_went_back(5, 4)
    assert counter_went_back(1, 0)


async def test_an_inactive_account_is_told_so_once_its_passkey_verified(
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
) -> None:
    await set_active(database, with_passkey.user.id, active=False)
    with pytest.raises(AccountInactive) as refused:
        await sign_in(await _passwordless(begin_sign_in, authenticator))
    assert refused.value.context == {"user_id": with_passkey.user.id}


async def test_the_login_monitor_hears_of_passkey_sign_ins(
    database: MemoryDatabase,
    begin_sign_in: BeginPasskeySignIn,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    ceremonies: PyWebAuthnCeremonies,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    monitor = RecordingLoginMonitor()
    watched = SignInWithPasskey(
        uow=InMemoryUnitOfWork(database),
        ceremonies=ceremonies,
        tokens=tokens,
        clock=clock,
        monitor=monitor,
    )
    await watched(await _passwordless(begin_sign_in, authenticator))
    with pytest.raises(PasskeyRefused):
        await watched(await _passwordless(begin_sign_in, authenticator, tamper=True))
    assert monitor.outcomes == {"success": 1, "invalid": 1}


# --- the second factor ---------------------------------------------------------------


async def _turn_on_mfa(database: MemoryDatabase, user: User, clock: ManualClock) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.enable_mfa(clock.now())
        await uow.users.update(stored)
        await uow.commit()


async def _mfa_token(authenticate_user: AuthenticateUser) -> MfaRequired:
    with pytest.raises(MfaRequired) as asked:
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    return asked.value


async def test_a_login_asking_for_a_second_factor_offers_the_passkey(
    authenticate_user: AuthenticateUser,
    with_passkey: Enrolled,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await _turn_on_mfa(database, with_passkey.user, clock)
    asked = await _mfa_token(authenticate_user)
    assert asked.details["methods"] == ["totp", "recovery_codes", "passkey"]


async def test_without_a_passkey_the_second_factor_is_a_code(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await _turn_on_mfa(database, alice.user, clock)
    asked = await _mfa_token(authenticate_user)
    assert asked.details["methods"] == ["totp", "recovery_codes"]


async def test_a_passkey_completes_a_login_waiting_for_its_second_factor(
    authenticate_user: AuthenticateUser,
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    verify_mfa: VerifyMfa,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await _turn_on_mfa(database, with_passkey.user, clock)
    mfa_token = (await _mfa_token(authenticate_user)).mfa_token

    options = await begin_sign_in(PasskeySignInRequest(mfa_token))
    assert options["allowCredentials"] == [
        {"id": with_passkey.passkey.credential_id, "type": "public-key"}
    ]
    signed_in = await sign_in(PasskeySignIn(authenticator.get(options)))

    assert signed_in.user.id == with_passkey.user.id
    assert events_of(database, "user_login")[-1].data["mfa"] == "passkey"
    with pytest.raises(InvalidToken):  # the login's token is spent
        await verify_mfa(MfaVerification(mfa_token, SecondFactor(code="000000")))


async def test_another_users_passkey_does_not_complete_a_login(
    authenticate_user: AuthenticateUser,
    begin_sign_in: BeginPasskeySignIn,
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    sign_in: SignInWithPasskey,
    with_passkey: Enrolled,
    bob: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    bobs = SoftAuthenticator(origin=ORIGIN)
    options = await begin_registration(PasskeyOptionsRequest(bob.user, PASSWORD))
    bobs_passkey = await add_passkey(PasskeyRegistration(bob.user, bobs.create(options)))
    await _turn_on_mfa(database, with_passkey.user, clock)
    mfa_token = (await _mfa_token(authenticate_user)).mfa_token

    options = await begin_sign_in(PasskeySignInRequest(mfa_token))
    answer = bobs.get(options, credential=bobs.credentials[bobs_passkey.credential_id])
    with pytest.raises(PasskeyRefused) as refused:
        await sign_in(PasskeySignIn(answer))
    assert refused.value.context == {"user_id": with_passkey.user.id, "reason": "another's"}


async def test_a_second_step_needs_a_live_login_and_a_passkey(
    authenticate_user: AuthenticateUser,
    begin_sign_in: BeginPasskeySignIn,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    with pytest.raises(InvalidToken):
        await begin_sign_in(PasskeySignInRequest("not a token"))
    await _turn_on_mfa(database, alice.user, clock)
    mfa_token = (await _mfa_token(authenticate_user)).mfa_token
    with pytest.raises(PasskeyRefused) as refused:  # alice has no passkey
        await begin_sign_in(PasskeySignInRequest(mfa_token))
    assert refused.value.context == {"user_id": alice.user.id, "reason": "no passkey"}


async def test_a_login_spent_meanwhile_is_not_completed_twice(
    authenticate_user: AuthenticateUser,
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await _turn_on_mfa(database, with_passkey.user, clock)
    mfa_token = (await _mfa_token(authenticate_user)).mfa_token
    first = await begin_sign_in(PasskeySignInRequest(mfa_token))
    second = await begin_sign_in(PasskeySignInRequest(mfa_token))
    await sign_in(PasskeySignIn(authenticator.get(first)))
    with pytest.raises(InvalidToken):
        await sign_in(PasskeySignIn(authenticator.get(second)))


# --- managing passkeys ---------------------------------------------------------------


async def test_a_passkey_is_renamed_by_its_owner_only(
    rename_passkey: RenamePasskey,
    list_passkeys: ListPasskeys,
    with_passkey: Enrolled,
    bob: Registered,
) -> None:
    renamed = await rename_passkey(
        PasskeyRename(with_passkey.user, with_passkey.passkey.id, " Phone ")
    )
    assert renamed.name == "Phone"
    assert [p.name for p in await list_passkeys(with_passkey.user)] == ["Phone"]
    with pytest.raises(PasskeyNotFound) as refused:
        await rename_passkey(PasskeyRename(bob.user, with_passkey.passkey.id, "Mine"))
    assert refused.value.context == {"user_id": bob.user.id}
    with pytest.raises(PasskeyNotFound):
        await rename_passkey(PasskeyRename(with_passkey.user, "no-such-id", "Mine"))


async def test_a_removed_passkey_signs_in_no_more(
    remove_passkey: RemovePasskey,
    begin_sign_in: BeginPasskeySignIn,
    sign_in: SignInWithPasskey,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    bob: Registered,
    database: MemoryDatabase,
) -> None:
    with pytest.raises(PasskeyNotFound):
        await remove_passkey(PasskeyRemoval(bob.user, with_passkey.passkey.id))

    await remove_passkey(PasskeyRemoval(with_passkey.user, with_passkey.passkey.id))

    assert await _passkeys(database, with_passkey.user) == []
    [removed] = events_of(database, "passkey_removed")
    assert removed.user_id == with_passkey.user.id
    assert removed.data == {"passkey_id": with_passkey.passkey.id, "name": "Laptop"}
    notice = next(e.message for e in database.outbox if e.message.kind == "passkey_removed")
    assert 'the passkey named "Laptop" was removed' in notice.body
    with pytest.raises(PasskeyRefused):
        await sign_in(await _passwordless(begin_sign_in, authenticator))
    with pytest.raises(PasskeyNotFound):
        await remove_passkey(PasskeyRemoval(with_passkey.user, with_passkey.passkey.id))


async def test_expired_challenges_are_cleared_as_new_ones_are_issued(
    begin_sign_in: BeginPasskeySignIn, database: MemoryDatabase, clock: ManualClock
) -> None:
    await begin_sign_in(PasskeySignInRequest())
    await begin_sign_in(PasskeySignInRequest())
    clock.advance(CHALLENGE_TTL)
    await begin_sign_in(PasskeySignInRequest())
    assert len(database.state.webauthn_challenges) == 1


async def test_a_passkey_sign_in_from_a_new_device_is_told_to_the_owner(
    database: MemoryDatabase,
    begin_sign_in: BeginPasskeySignIn,
    authenticator: SoftAuthenticator,
    with_passkey: Enrolled,
    ceremonies: PyWebAuthnCeremonies,
    tokens: JwtTokenService,
    clock: ManualClock,
    authenticate_user: AuthenticateUser,
) -> None:
    """As after a login with a password (the account's first sign-in is no new device)."""
    await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    watchful = SignInWithPasskey(
        uow=InMemoryUnitOfWork(database),
        ceremonies=ceremonies,
        tokens=tokens,
        clock=clock,
        new_device_window=timedelta(days=30),
    )
    elsewhere = RequestOrigin(client_ip="198.51.100.7", user_agent="Phone/1.0")
    options = await begin_sign_in(PasskeySignInRequest())
    await watchful(PasskeySignIn(authenticator.get(options), elsewhere))
    assert "new_device_sign_in" in _outbox_kinds(database)
