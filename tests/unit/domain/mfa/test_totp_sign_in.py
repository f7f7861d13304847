"""Two-factor sign-in with TOTP (RFC 6238) and recovery codes, on memory adapters with a
manual clock: setup, confirmation, the login's second step, replay, drift, expiry, wrong
codes, recovery codes, regeneration, turning it off, the administrator's reset."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.fernet_box import FernetSecretBox
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
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
from neodyme_domain.mfa.confirm_totp import ConfirmTotp, TotpConfirmation
from neodyme_domain.mfa.disable_totp import DisableTotp, TotpDisableCommand
from neodyme_domain.mfa.model import MAX_CODE_FAILURES, MFA_TOKEN_TTL
from neodyme_domain.mfa.regenerate_recovery_codes import (
    RecoveryCodesRequest,
    RegenerateRecoveryCodes,
)
from neodyme_domain.mfa.reseal_secrets import ResealSecrets
from neodyme_domain.mfa.reset_mfa import MfaResetCommand, ResetMfa
from neodyme_domain.mfa.second_factor import SecondFactor
from neodyme_domain.mfa.setup_totp import SetupTotp, TotpSetupCommand
from neodyme_domain.mfa.verify_mfa import MfaVerification, VerifyMfa
from neodyme_domain.throttling import LoginLimits, ThrottleLimits
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    ChangePassword,
    ChangePasswordCommand,
    Registered,
)
from tests.unit.domain.helpers import NEW_PASSWORD, PASSWORD, events_of, stored_user
from tests.unit.domain.mfa.conftest import ISSUER, STEP, Enrolled, code_now, mfa_token

ORIGIN = RequestOrigin(client_ip="192.0.2.9", user_agent="Authenticator-Test/1.0")


def by_code(token: str, code: str) -> MfaVerification:
    return MfaVerification(token, SecondFactor(code=code), ORIGIN)


def by_recovery_code(token: str, code: str) -> MfaVerification:
    return MfaVerification(token, SecondFactor(recovery_code=code), ORIGIN)


def mail_kinds(database: MemoryDatabase) -> list[str]:
    return [entry.message.kind for entry in database.outbox]


# --- setup and confirmation ------------------------------------------------------------------


async def test_setup_gives_a_secret_its_uri_and_qr_code_and_turns_nothing_on(
    setup_totp: SetupTotp, database: MemoryDatabase, clock: ManualClock, alice: Registered
) -> None:
    setup = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))

    assert len(setup.secret) == 32
    assert setup.otpauth_uri.startswith("otpauth://totp/neodyme-tests:alice%40example.com?")
    assert f"secret={setup.secret}" in setup.otpauth_uri
    assert f"issuer={ISSUER}" in setup.otpauth_uri
    assert setup.qr_svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    stored = database.state.totp[alice.user.id]
    assert setup.secret not in stored.sealed_secret  # sealed at rest
    assert not stored.is_confirmed
    assert stored.created_at == clock.now()
    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.mfa_enabled is False


async def test_setup_needs_the_password(setup_totp: SetupTotp, alice: Registered) -> None:
    with pytest.raises(InvalidCredentials):
        await setup_totp(TotpSetupCommand(alice.user, NEW_PASSWORD))


async def test_a_code_confirms_the_setup_and_returns_ten_single_use_recovery_codes(
    enrolled: Enrolled, database: MemoryDatabase
) -> None:
    assert enrolled.user.mfa_enabled is True
    assert len(set(enrolled.recovery_codes)) == 10
    assert all(len(code) == 14 and code.count("-") == 2 for code in enrolled.recovery_codes)
    stored = {digest for (_, digest) in database.state.recovery_codes}
    assert not stored & set(enrolled.recovery_codes)  # digests only
    assert [e.data for e in events_of(database, "mfa_enabled")] == [{"method": "totp"}]
    assert "mfa_enabled" in mail_kinds(database)


async def test_a_wrong_code_confirms_nothing(
    setup_totp: SetupTotp,
    confirm_totp: ConfirmTotp,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    setup = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))

    with pytest.raises(InvalidCode):
        await confirm_totp(TotpConfirmation(alice.user, code_now(setup.secret, clock, steps=5)))

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.mfa_enabled is False
    assert events_of(database, "mfa_enabled") == []


async def test_a_confirmation_needs_a_setup_and_a_second_setup_replaces_the_first(
    setup_totp: SetupTotp, confirm_totp: ConfirmTotp, clock: ManualClock, alice: Registered
) -> None:
    with pytest.raises(MfaSetupRequired):
        await confirm_totp(TotpConfirmation(alice.user, "123456"))
    first = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))
    second = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))

    with pytest.raises(InvalidCode):
        await confirm_totp(TotpConfirmation(alice.user, code_now(first.secret, clock)))
    await confirm_totp(TotpConfirmation(alice.user, code_now(second.secret, clock)))


async def test_with_the_second_factor_on_setup_and_confirmation_are_refused(
    setup_totp: SetupTotp, confirm_totp: ConfirmTotp, clock: ManualClock, enrolled: Enrolled
) -> None:
    with pytest.raises(MfaAlreadyEnabled):
        await setup_totp(TotpSetupCommand(enrolled.user, PASSWORD))
    with pytest.raises(MfaAlreadyEnabled):
        await confirm_totp(TotpConfirmation(enrolled.user, code_now(enrolled.secret, clock)))


# --- the login's second step -----------------------------------------------------------------


async def test_a_right_password_asks_for_the_second_factor_and_issues_nothing(
    authenticate_user: AuthenticateUser, database: MemoryDatabase, enrolled: Enrolled
) -> None:
    sessions_before = len(database.state.sessions)

    with pytest.raises(MfaRequired) as asked:
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))

    details = asked.value.details
    assert details["methods"] == ["totp", "recovery_codes"]
    assert details["expires_in"] == int(MFA_TOKEN_TTL.total_seconds())
    assert details["mfa_token"] == asked.value.mfa_token
    assert len(database.state.sessions) == sessions_before


async def test_a_wrong_password_or_unknown_address_is_answered_as_without_the_factor(
    authenticate_user: AuthenticateUser, enrolled: Enrolled
) -> None:
    for email, password in (("alice@example.com", NEW_PASSWORD), ("nobody@example.com", PASSWORD)):
        with pytest.raises(InvalidCredentials) as refused:
            await authenticate_user(AuthenticateCommand(email, password))
        assert refused.value.code == "INVALID_CREDENTIALS"
        assert refused.value.details == {}


async def test_a_code_completes_the_login_once(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)

    signed_in = await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))

    assert signed_in.user.id == enrolled.user.id
    assert signed_in.tokens.access_token
    login = events_of(database, "user_login")[-1]
    assert (login.data["mfa"], login.user_agent) == ("totp", "Authenticator-Test/1.0")
    clock.advance(STEP)
    with pytest.raises(InvalidToken):  # the mfa_token is spent
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))


async def test_a_code_is_accepted_once_even_in_another_login(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    code = code_now(enrolled.secret, clock)
    await verify_mfa(by_code(await mfa_token(authenticate_user), code))

    with pytest.raises(InvalidCode):
        await verify_mfa(by_code(await mfa_token(authenticate_user), code))


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
async def test_one_step_of_drift_either_way_is_accepted(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    clock: ManualClock,
    enrolled: Enrolled,
    steps: int,
    accepted: bool,
) -> None:
    clock.advance(STEP * 3)  # past every step used so far
    token = await mfa_token(authenticate_user)
    code = code_now(enrolled.secret, clock, steps=steps)

    if accepted:
        await verify_mfa(by_code(token, code))
    else:
        with pytest.raises(InvalidCode):
            await verify_mfa(by_code(token, code))


async def test_an_mfa_token_expires(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    clock.advance(MFA_TOKEN_TTL)

    with pytest.raises(InvalidToken):
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))


async def test_expired_mfa_tokens_are_cleared_as_new_ones_are_issued(
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    await mfa_token(authenticate_user)
    await mfa_token(authenticate_user)
    clock.advance(MFA_TOKEN_TTL)
    await mfa_token(authenticate_user)
    assert len(database.state.mfa_challenges) == 1


async def test_a_password_change_kills_a_waiting_mfa_token(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    change_password: ChangePassword,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    await change_password(ChangePasswordCommand(enrolled.user, PASSWORD, NEW_PASSWORD))

    with pytest.raises(InvalidToken):
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))


async def test_wrong_codes_kill_the_token_after_five(
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
    box: FernetSecretBox,
    tokens: JwtTokenService,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    lenient = LoginLimits(account=ThrottleLimits(max_failures=100))
    verify = VerifyMfa(
        uow=InMemoryUnitOfWork(database),
        totp=PyotpTotp(),
        box=box,
        tokens=tokens,
        clock=clock,
        limits=lenient,
    )
    token = await mfa_token(authenticate_user)
    wrong = code_now(enrolled.secret, clock, steps=9)

    for _ in range(MAX_CODE_FAILURES):
        with pytest.raises(InvalidCode):
            await verify(by_code(token, wrong))

    with pytest.raises(InvalidToken):
        await verify(by_code(token, code_now(enrolled.secret, clock)))
    failed = events_of(database, "mfa_failed")
    assert [e.data["failures"] for e in failed] == [1, 2, 3, 4, 5]
    assert failed[0].data["method"] == "totp"


async def test_wrong_codes_lock_the_account_like_wrong_passwords(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    wrong = code_now(enrolled.secret, clock, steps=9)
    token = await mfa_token(authenticate_user)
    for _ in range(MAX_CODE_FAILURES):
        with pytest.raises(InvalidCode):
            await verify_mfa(by_code(token, wrong))

    with pytest.raises(TooManyAttempts):  # the sixth code, right or wrong
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))
    with pytest.raises(TooManyAttempts):  # and the password step too
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))


async def test_a_new_password_step_does_not_clear_the_wrong_codes(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    """Only a completed second factor clears the account's count; and with failures on
    record, each password step is counted on admission like any login attempt (the
    throttle's burst rule), so that rounds of password and wrong code lock sooner."""
    wrong = code_now(enrolled.secret, clock, steps=9)
    for _ in range(3):  # counts 1, then 2 + 1, then 2 + 1 more: the fifth locks
        token = await mfa_token(authenticate_user)
        with pytest.raises(InvalidCode):
            await verify_mfa(by_code(token, wrong))

    with pytest.raises(TooManyAttempts):
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))


async def test_a_right_code_clears_the_account_throttle(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    token = await mfa_token(authenticate_user)
    with pytest.raises(InvalidCode):
        await verify_mfa(by_code(token, code_now(enrolled.secret, clock, steps=9)))

    await verify_mfa(by_code(token, code_now(enrolled.secret, clock)))

    assert database.state.throttle == {}


# --- recovery codes --------------------------------------------------------------------------


async def test_a_recovery_code_signs_in_once_and_is_told(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    database: MemoryDatabase,
    enrolled: Enrolled,
) -> None:
    code = enrolled.recovery_codes[0]
    typed = " " + code.upper().replace("-", " ") + " "  # as read out and typed

    await verify_mfa(by_recovery_code(await mfa_token(authenticate_user), typed))

    with pytest.raises(InvalidCode):
        await verify_mfa(by_recovery_code(await mfa_token(authenticate_user), code))
    [used] = events_of(database, "recovery_code_used")
    assert used.data == {"remaining": 9}
    assert events_of(database, "user_login")[-1].data["mfa"] == "recovery_codes"
    notice = next(e.message for e in database.outbox if e.message.kind == "recovery_code_used")
    assert "9 unused codes remain" in notice.body


async def test_regenerating_kills_the_old_set(
    authenticate_user: AuthenticateUser,
    verify_mfa: VerifyMfa,
    regenerate: RegenerateRecoveryCodes,
    database: MemoryDatabase,
    enrolled: Enrolled,
) -> None:
    with pytest.raises(InvalidCredentials):
        await regenerate(RecoveryCodesRequest(enrolled.user, NEW_PASSWORD))

    fresh = await regenerate(RecoveryCodesRequest(enrolled.user, PASSWORD))

    assert len(fresh) == 10
    assert not set(fresh) & set(enrolled.recovery_codes)
    with pytest.raises(InvalidCode):
        await verify_mfa(
            by_recovery_code(await mfa_token(authenticate_user), enrolled.recovery_codes[1])
        )
    await verify_mfa(by_recovery_code(await mfa_token(authenticate_user), fresh[0]))
    assert len(events_of(database, "recovery_codes_regenerated")) == 1


async def test_regenerating_needs_the_second_factor_on(
    regenerate: RegenerateRecoveryCodes, alice: Registered
) -> None:
    with pytest.raises(MfaNotEnabled):
        await regenerate(RecoveryCodesRequest(alice.user, PASSWORD))


# --- turning it off -------------------------------------------------------------------------


async def test_turning_off_needs_the_password_and_a_code(
    disable_totp: DisableTotp,
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    code = code_now(enrolled.secret, clock)
    with pytest.raises(InvalidCredentials):
        await disable_totp(TotpDisableCommand(enrolled.user, NEW_PASSWORD, code))
    with pytest.raises(InvalidCode):
        await disable_totp(TotpDisableCommand(enrolled.user, PASSWORD, "not-a-code"))

    await disable_totp(TotpDisableCommand(enrolled.user, PASSWORD, code, ORIGIN))

    signed_in = await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    assert signed_in.user.mfa_enabled is False
    assert [e.data for e in events_of(database, "mfa_disabled")] == [{"by": "user"}]
    notice = next(e.message for e in database.outbox if e.message.kind == "mfa_disabled")
    assert "(by you)" in notice.body
    assert database.state.totp == {}
    assert database.state.recovery_codes == {}
    with pytest.raises(MfaNotEnabled):
        await disable_totp(TotpDisableCommand(signed_in.user, PASSWORD, code))


async def test_a_recovery_code_can_turn_it_off(
    disable_totp: DisableTotp, database: MemoryDatabase, enrolled: Enrolled
) -> None:
    await disable_totp(TotpDisableCommand(enrolled.user, PASSWORD, enrolled.recovery_codes[4]))

    user = await stored_user(database, enrolled.user.id)
    assert user is not None
    assert user.mfa_enabled is False


async def test_an_administrator_resets_it_and_nobody_else_may(
    reset_mfa: ResetMfa,
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
    enrolled: Enrolled,
    bob: Registered,
    admin: Registered,
) -> None:
    with pytest.raises(Forbidden):
        await reset_mfa(MfaResetCommand(bob.user, enrolled.user.id))
    with pytest.raises(Forbidden):
        await reset_mfa(MfaResetCommand(enrolled.user, enrolled.user.id))  # not even oneself

    await reset_mfa(MfaResetCommand(admin.user, enrolled.user.id, ORIGIN))

    await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    assert [e.data for e in events_of(database, "mfa_disabled")] == [{"by": "admin"}]
    notice = next(e.message for e in database.outbox if e.message.kind == "mfa_disabled")
    assert "(by an administrator)" in notice.body
    with pytest.raises(MfaNotEnabled):
        await reset_mfa(MfaResetCommand(admin.user, enrolled.user.id))


# --- encryption at rest ---------------------------------------------------------------------


async def test_resealing_moves_every_secret_to_the_newest_key(
    database: MemoryDatabase,
    key: bytes,
    authenticate_user: AuthenticateUser,
    tokens: JwtTokenService,
    clock: ManualClock,
    enrolled: Enrolled,
) -> None:
    newest = Fernet.generate_key()
    rotating = FernetSecretBox([newest, key])

    assert await ResealSecrets(uow=InMemoryUnitOfWork(database), box=rotating)() == 1

    sealed = database.state.totp[enrolled.user.id].sealed_secret
    only_newest = FernetSecretBox([newest])
    assert only_newest.open(sealed) == enrolled.secret
    verify = VerifyMfa(
        uow=InMemoryUnitOfWork(database),
        totp=PyotpTotp(),
        box=only_newest,
        tokens=tokens,
        clock=clock,
    )
    await verify(by_code(await mfa_token(authenticate_user), code_now(enrolled.secret, clock)))
