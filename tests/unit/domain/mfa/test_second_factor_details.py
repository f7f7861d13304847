"""What operators and users see of the second factor besides the outcome: the context of
each refusal (the log line), the time and account of each event, the login monitor's
counts, and the rules that turn what a user typed into a factor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.fernet_box import FernetSecretBox
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingLoginMonitor
from neodyme_adapters.totp import PyotpTotp
from neodyme_domain import (
    Forbidden,
    InvalidCode,
    InvalidCredentials,
    InvalidToken,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaRequired,
    MfaSetupRequired,
    RequestOrigin,
    TooManyAttempts,
)
from neodyme_domain.messages import NO_ORIGIN
from neodyme_domain.mfa.confirm_totp import ConfirmTotp, TotpConfirmation
from neodyme_domain.mfa.disable_totp import DisableTotp, TotpDisableCommand
from neodyme_domain.mfa.model import MAX_CODE_FAILURES, MFA_TOKEN_TTL
from neodyme_domain.mfa.recovery_codes import recovery_code_digest
from neodyme_domain.mfa.regenerate_recovery_codes import (
    RecoveryCodesRequest,
    RegenerateRecoveryCodes,
)
from neodyme_domain.mfa.reset_mfa import MfaResetCommand, ResetMfa
from neodyme_domain.mfa.second_factor import SecondFactor, spend
from neodyme_domain.mfa.setup_totp import SetupTotp, TotpSetupCommand
from neodyme_domain.mfa.verify_mfa import MfaVerification, VerifyMfa
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    Registered,
    SetUserActive,
    SetUserActiveCommand,
)
from tests.unit.domain.helpers import NEW_PASSWORD, PASSWORD, events_of
from tests.unit.domain.mfa.conftest import STEP, Enrolled, code_now, mfa_token

PHONE = RequestOrigin(client_ip="203.0.113.50", user_agent="NewPhone/1.0")


def by_code(token: str, code: str, origin: RequestOrigin = NO_ORIGIN) -> MfaVerification:
    return MfaVerification(token, SecondFactor(code=code), origin)


@pytest.fixture
def monitor() -> RecordingLoginMonitor:
    return RecordingLoginMonitor()


@pytest.fixture
def watched_verify(
    database: MemoryDatabase,
    box: FernetSecretBox,
    tokens: JwtTokenService,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
) -> VerifyMfa:
    return VerifyMfa(
        uow=InMemoryUnitOfWork(database),
        totp=PyotpTotp(),
        box=box,
        tokens=tokens,
        clock=clock,
        new_device_window=timedelta(days=30),
        monitor=monitor,
    )


# --- refusals name the account -------------------------------------------------------------


async def test_setup_and_confirmation_refusals_name_the_account(
    setup_totp: SetupTotp, confirm_totp: ConfirmTotp, clock: ManualClock, alice: Registered
) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        await setup_totp(TotpSetupCommand(alice.user, NEW_PASSWORD))
    with pytest.raises(MfaSetupRequired) as unset:
        await confirm_totp(TotpConfirmation(alice.user, "123456"))
    setup = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))
    with pytest.raises(InvalidCode) as bad:
        await confirm_totp(TotpConfirmation(alice.user, code_now(setup.secret, clock, steps=7)))

    assert wrong.value.context == {"user_id": alice.user.id}
    assert unset.value.context == {"user_id": alice.user.id}
    assert bad.value.context == {"user_id": alice.user.id}


async def test_refusals_with_the_factor_on_name_the_account(
    setup_totp: SetupTotp,
    confirm_totp: ConfirmTotp,
    disable_totp: DisableTotp,
    regenerate: RegenerateRecoveryCodes,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    user_id = enrolled.user.id
    refusals = [
        (MfaAlreadyEnabled, setup_totp(TotpSetupCommand(enrolled.user, PASSWORD))),
        (MfaAlreadyEnabled, confirm_totp(TotpConfirmation(enrolled.user, "123456"))),
        (InvalidCredentials, disable_totp(TotpDisableCommand(enrolled.user, NEW_PASSWORD, "1"))),
        (InvalidCode, disable_totp(TotpDisableCommand(enrolled.user, PASSWORD, "1"))),
        (InvalidCredentials, regenerate(RecoveryCodesRequest(enrolled.user, NEW_PASSWORD))),
    ]
    for error, attempt in refusals:
        with pytest.raises(error) as refused:
            await attempt
        assert refused.value.context == {"user_id": user_id}, error


async def test_refusals_without_the_factor_name_the_account(
    disable_totp: DisableTotp,
    regenerate: RegenerateRecoveryCodes,
    reset_mfa: ResetMfa,
    alice: Registered,
    bob: Registered,
    admin: Registered,
) -> None:
    for attempt in (
        disable_totp(TotpDisableCommand(alice.user, PASSWORD, "123456")),
        regenerate(RecoveryCodesRequest(alice.user, PASSWORD)),
        reset_mfa(MfaResetCommand(admin.user, alice.user.id)),
    ):
        with pytest.raises(MfaNotEnabled) as refused:
            await attempt
        assert refused.value.context == {"user_id": alice.user.id}
    with pytest.raises(Forbidden) as forbidden:
        await reset_mfa(MfaResetCommand(bob.user, alice.user.id))
    assert forbidden.value.context == {"requester": bob.user.id, "action": "reset mfa"}


# --- the login's second step --------------------------------------------------------------


async def test_the_code_that_confirmed_the_setup_does_not_sign_in(
    setup_totp: SetupTotp,
    confirm_totp: ConfirmTotp,
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    clock: ManualClock,
    alice: Registered,
) -> None:
    setup = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))
    code = code_now(setup.secret, clock)
    await confirm_totp(TotpConfirmation(alice.user, code))

    with pytest.raises(InvalidCode):
        await verify_mfa(by_code(await mfa_token(authenticate_user), code))


async def test_a_right_password_leaves_a_challenge_and_names_the_account(
    hasher: Argon2Hasher,
    tokens: JwtTokenService,
    database: MemoryDatabase,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
    enrolled: Enrolled,
) -> None:
    watched = AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=hasher, tokens=tokens, clock=clock, monitor=monitor
    )
    with pytest.raises(MfaRequired) as asked:
        await watched(AuthenticateCommand("alice@example.com", PASSWORD))

    assert asked.value.context == {"user_id": enrolled.user.id}
    challenge = database.state.mfa_challenges[digest(asked.value.mfa_token)]
    assert (challenge.user_id, challenge.created_at) == (enrolled.user.id, clock.now())
    assert challenge.expires_at == clock.now() + MFA_TOKEN_TTL
    assert dict(monitor.outcomes) == {"mfa_required": 1}


async def test_the_second_step_is_counted_and_recorded_like_a_login(
    authenticate_user: AuthenticateUser,
    watched_verify: VerifyMfa,
    database: MemoryDatabase,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    with pytest.raises(InvalidCode) as wrong:
        await watched_verify(by_code(token, code_now(enrolled.secret, clock, steps=9)))
    clock.advance(timedelta(seconds=1))

    await watched_verify(by_code(token, code_now(enrolled.secret, clock), PHONE))

    assert wrong.value.context == {"user_id": enrolled.user.id, "failures": 1}
    [failed] = events_of(database, "mfa_failed")
    assert (failed.user_id, failed.occurred_at) == (
        enrolled.user.id,
        clock.now() - timedelta(seconds=1),
    )
    login = events_of(database, "user_login")[-1]
    assert (login.user_id, login.occurred_at) == (enrolled.user.id, clock.now())
    assert login.data == {"email": "alice@example.com", "mfa": "totp"}
    assert dict(monitor.outcomes) == {"invalid": 1, "success": 1}
    assert dict(monitor.lockouts) == {}
    notices = [e.message for e in database.outbox if e.message.kind == "new_device_sign_in"]
    assert [n.data["user_agent"] for n in notices] == ["NewPhone/1.0"]


async def test_a_locked_account_is_counted_and_told_when_to_come_back(
    authenticate_user: AuthenticateUser,
    watched_verify: VerifyMfa,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    for _ in range(MAX_CODE_FAILURES):
        with pytest.raises(InvalidCode):
            await watched_verify(by_code(token, code_now(enrolled.secret, clock, steps=9)))

    with pytest.raises(TooManyAttempts) as locked:
        await watched_verify(by_code(token, code_now(enrolled.secret, clock)))

    assert locked.value.retry_after == 15 * 60
    assert locked.value.context == {"user_id": enrolled.user.id}
    assert dict(monitor.outcomes) == {"invalid": MAX_CODE_FAILURES, "locked": 1}
    assert dict(monitor.lockouts) == {"account": 1}


async def test_refused_tokens_say_why(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    set_user_active: SetUserActive,
    disable_totp: DisableTotp,
    clock: ManualClock,
    enrolled: Enrolled,
    admin: Registered,
) -> None:
    with pytest.raises(InvalidToken) as unknown:
        await verify_mfa(by_code("not-a-token", "123456"))
    assert unknown.value.context == {"reason": "mfa token"}

    token = await mfa_token(authenticate_user)
    await disable_totp(TotpDisableCommand(enrolled.user, PASSWORD, enrolled.recovery_codes[0]))
    with pytest.raises(InvalidToken) as turned_off:
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))
    assert turned_off.value.context == {"user_id": enrolled.user.id, "reason": "changed"}


async def test_a_deactivated_account_cannot_finish_its_login(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    set_user_active: SetUserActive,
    clock: ManualClock,
    enrolled: Enrolled,
    admin: Registered,
) -> None:
    token = await mfa_token(authenticate_user)
    await set_user_active(SetUserActiveCommand(admin.user, enrolled.user.id, False))

    with pytest.raises(InvalidToken):
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))


async def test_a_token_dead_of_wrong_codes_says_so(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    async with InMemoryUnitOfWork(database) as uow:  # wrong codes, without a lockout
        for _ in range(MAX_CODE_FAILURES):
            await uow.mfa_challenges.count_failure(digest(token))
        await uow.commit()

    with pytest.raises(InvalidToken) as dead:
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))
    assert dead.value.context == {"user_id": enrolled.user.id, "reason": "too many codes"}


# --- events of the factor's life -----------------------------------------------------------


async def test_each_change_of_the_factor_is_recorded_for_the_account_when_it_happens(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    regenerate: RegenerateRecoveryCodes,
    reset_mfa: ResetMfa,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
    admin: Registered,
) -> None:
    [enabled] = events_of(database, "mfa_enabled")
    assert (enabled.user_id, enabled.occurred_at) == (enrolled.user.id, clock.now() - STEP)
    clock.advance(timedelta(minutes=1))
    token = await mfa_token(authenticate_user)
    await verify_mfa(MfaVerification(token, SecondFactor(recovery_code=enrolled.recovery_codes[0])))
    clock.advance(timedelta(minutes=1))
    await regenerate(RecoveryCodesRequest(enrolled.user, PASSWORD))
    clock.advance(timedelta(minutes=1))
    await reset_mfa(MfaResetCommand(admin.user, enrolled.user.id))

    for kind, minutes in (
        ("recovery_code_used", 1),
        ("recovery_codes_regenerated", 2),
        ("mfa_disabled", 3),
    ):
        [event] = events_of(database, kind)
        assert event.user_id == enrolled.user.id, kind
        assert event.occurred_at == clock.now() - timedelta(minutes=3 - minutes), kind


# --- what a user typed ---------------------------------------------------------------------


FULLWIDTH = "\uff11\uff12\uff13\uff14\uff15\uff16"
"""Six digits ``str.isdigit`` accepts that are not ASCII (full-width 1 to 6)."""


@pytest.mark.parametrize(
    ("typed", "factor"),
    [
        ("123456", SecondFactor(code="123456")),
        (" 123456 ", SecondFactor(code="123456")),
        ("12345", SecondFactor(recovery_code="12345")),
        ("1234567", SecondFactor(recovery_code="1234567")),
        ("12345a", SecondFactor(recovery_code="12345a")),
        (FULLWIDTH, SecondFactor(recovery_code=FULLWIDTH)),  # digits, but not ASCII
        ("abcd-efgh-ijkl", SecondFactor(recovery_code="abcd-efgh-ijkl")),
    ],
)
def test_six_ascii_digits_are_a_code_anything_else_a_recovery_code(
    typed: str, factor: SecondFactor
) -> None:
    assert SecondFactor.typed(typed) == factor


def test_a_recovery_codes_digest_is_that_of_its_twelve_lower_case_characters() -> None:
    """Stored digests must keep matching what users type after any upgrade."""
    expected = digest("abcdefghijkl")

    for typed in ("abcd-efgh-ijkl", "ABCD EFGH IJKL", " abcdefghijkl\t"):
        assert recovery_code_digest(typed) == expected


async def test_nothing_typed_or_an_unconfirmed_authenticator_spends_nothing(
    setup_totp: SetupTotp,
    database: MemoryDatabase,
    box: FernetSecretBox,
    clock: ManualClock,
    alice: Registered,
) -> None:
    setup = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))  # pending only
    async with InMemoryUnitOfWork(database) as uow:
        pending = SecondFactor(code=code_now(setup.secret, clock))
        assert await spend(uow, PyotpTotp(), box, alice.user, pending, clock.now()) is False
        assert await spend(uow, PyotpTotp(), box, alice.user, SecondFactor(), clock.now()) is False


def test_mfa_required_keeps_its_context() -> None:
    asked = MfaRequired(mfa_token="t", methods=["totp"], expires_in=300, context={"user_id": 7})

    assert asked.context == {"user_id": 7}
    assert asked.details == {"mfa_token": "t", "methods": ["totp"], "expires_in": 300}


async def test_a_challenge_whose_account_is_gone_is_refused(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    # What no store lets happen (a challenge goes with its account), done to the state.
    del database.state.users[enrolled.user.id]

    with pytest.raises(InvalidToken) as refused:
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))
    assert refused.value.context == {"user_id": enrolled.user.id, "reason": "changed"}
