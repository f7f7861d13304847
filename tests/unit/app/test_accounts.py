"""The in-process facade (``neodyme.open`` / ``Accounts``): every method reaches its use
case on the in-memory adapters, returns the use case's result and raises its errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from dependency_injector import providers

import neodyme
from neodyme import Accounts
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.container import build_container
from tests.support.authenticator import SoftAuthenticator

PASSWORD = "SecurePassword123!"
NEW_PASSWORD = "AnotherSecret456?"
WRONG = "WrongPassword123!"


@contextmanager
def accounts_on(
    settings: neodyme.Settings, notifier: RecordingNotifier, clock: ManualClock
) -> Iterator[Accounts]:
    """Accounts on a container of its own, with the unit tier's recording notifier and
    manual clock (tests/unit/conftest.py) in place of SMTP and the system clock."""
    container = build_container(settings)
    container.notifier.override(providers.Object(notifier))
    container.clock.override(providers.Object(clock))
    try:
        yield Accounts(container)
    finally:
        container.hasher().close()


@pytest.fixture
def accounts(
    settings: neodyme.Settings, notifier: RecordingNotifier, clock: ManualClock
) -> Iterator[Accounts]:
    with accounts_on(settings, notifier, clock) as accounts:
        yield accounts


@pytest.fixture
async def ada(accounts: Accounts) -> neodyme.Registered:
    return await accounts.register(email="ada@example.com", full_name="Ada", password=PASSWORD)


async def link_token(accounts: Accounts, notifier: RecordingNotifier, kind: str) -> str:
    """The token of the last e-mailed link of ``kind``, once the outbox is delivered."""
    await accounts.deliver_outbox()
    [*_, message] = [sent for sent in notifier.sent if sent.kind == kind]
    [token] = parse_qs(urlsplit(message.data["link"]).query)["token"]
    return token


# --- opening ---------------------------------------------------------------------------------


async def test_open_yields_accounts_and_delivers_queued_email_on_exit(
    settings: neodyme.Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="neodyme.email")

    async with neodyme.open(settings) as accounts:
        registered = await accounts.register(
            email="grace@example.com", full_name="Grace", password=PASSWORD
        )
        assert isinstance(accounts, Accounts)

    assert registered.user.email.value == "grace@example.com"
    assert "grace@example.com" in caplog.text  # the welcome e-mail, written to the log


# --- registration and sessions ---------------------------------------------------------------


async def test_register_then_authenticate_returns_the_same_user(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    session = await accounts.authenticate(email="ADA@example.com", password=PASSWORD)

    assert session.user.id == ada.user.id
    assert session.tokens.access_token


async def test_register_raises_the_use_cases_errors(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    with pytest.raises(neodyme.EmailAlreadyExists):
        await accounts.register(email="ada@example.com", full_name="Ada", password=PASSWORD)
    with pytest.raises(neodyme.WeakPassword):
        await accounts.register(email="weak@example.com", full_name="Weak", password="password")
    with pytest.raises(neodyme.ValidationFailed):
        await accounts.register(email="not an address", full_name="X", password=PASSWORD)


async def test_register_can_create_a_superuser(accounts: Accounts) -> None:
    registered = await accounts.register(
        email="root@example.com", full_name="Root", password=PASSWORD, is_superuser=True
    )

    assert registered.user.is_superuser


async def test_authenticate_with_a_wrong_password_is_invalid_credentials(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    with pytest.raises(neodyme.InvalidCredentials):
        await accounts.authenticate(email="ada@example.com", password=WRONG)


async def test_refresh_rotates_and_a_reused_token_is_refused(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    pair = await accounts.refresh(refresh_token=ada.tokens.refresh_token)

    assert pair.refresh_token != ada.tokens.refresh_token
    with pytest.raises(neodyme.TokenReused):
        await accounts.refresh(refresh_token=ada.tokens.refresh_token)


async def test_logout_ends_the_session(accounts: Accounts, ada: neodyme.Registered) -> None:
    await accounts.logout(refresh_token=ada.tokens.refresh_token)

    with pytest.raises(neodyme.InvalidToken):
        await accounts.logout(refresh_token=ada.tokens.refresh_token)


async def test_current_user_resolves_an_access_token(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    user = await accounts.current_user(access_token=ada.tokens.access_token)

    assert user.id == ada.user.id
    with pytest.raises(neodyme.InvalidToken):
        await accounts.current_user(access_token="not-a-token")


# --- one's own account -----------------------------------------------------------------------


async def test_change_password(accounts: Accounts, ada: neodyme.Registered) -> None:
    with pytest.raises(neodyme.InvalidCredentials):
        await accounts.change_password(
            user=ada.user, current_password=WRONG, new_password=NEW_PASSWORD
        )

    await accounts.change_password(
        user=ada.user, current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    session = await accounts.authenticate(email="ada@example.com", password=NEW_PASSWORD)
    assert session.user.id == ada.user.id


async def test_password_reset_by_e_mailed_link(
    accounts: Accounts, ada: neodyme.Registered, notifier: RecordingNotifier
) -> None:
    await accounts.request_password_reset(email="ada@example.com")
    token = await link_token(accounts, notifier, "password_reset")

    await accounts.reset_password(token=token, new_password=NEW_PASSWORD)

    assert (await accounts.authenticate(email="ada@example.com", password=NEW_PASSWORD)).user
    with pytest.raises(neodyme.InvalidLink):
        await accounts.reset_password(token=token, new_password=NEW_PASSWORD)


async def test_email_verification_by_e_mailed_link(
    accounts: Accounts, ada: neodyme.Registered, notifier: RecordingNotifier
) -> None:
    await accounts.request_verification(user=ada.user)
    token = await link_token(accounts, notifier, "email_verification")

    verified = await accounts.verify_email(token=token)

    assert (verified.id, verified.is_verified) == (ada.user.id, True)
    with pytest.raises(neodyme.InvalidLink):
        await accounts.verify_email(token="forged")


async def test_update_profile_renames(accounts: Accounts, ada: neodyme.Registered) -> None:
    user = await accounts.update_profile(user=ada.user, full_name="Ada Lovelace")

    assert user.full_name == "Ada Lovelace"
    with pytest.raises(neodyme.ValidationFailed):
        await accounts.update_profile(user=ada.user, full_name="")


async def test_delete_account_needs_the_password(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    with pytest.raises(neodyme.InvalidCredentials):
        await accounts.delete_account(user=ada.user, password=WRONG)

    await accounts.delete_account(user=ada.user, password=PASSWORD)

    with pytest.raises(neodyme.InvalidCredentials):
        await accounts.authenticate(email="ada@example.com", password=PASSWORD)


async def test_list_security_events_pages_one_users_history(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    await accounts.authenticate(email="ada@example.com", password=PASSWORD)
    await accounts.update_profile(user=ada.user, full_name="Ada L.")

    first = await accounts.list_security_events(user=ada.user, limit=1)
    assert first.next_cursor is not None
    rest = await accounts.list_security_events(user=ada.user, cursor=first.next_cursor)

    kinds = {event.type for event in first.items + rest.items}
    assert {"user_login", "profile_updated"} <= kinds
    with pytest.raises(neodyme.ValidationFailed):
        await accounts.list_security_events(user=ada.user, limit=0)


# --- administration --------------------------------------------------------------------------


async def test_the_operator_finds_gets_and_lists_users(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    operator = accounts.operator()

    assert operator.is_superuser
    found = await accounts.find_user(requester=operator, email="ADA@example.com")
    assert found.id == ada.user.id
    got = await accounts.get_user(requester=operator, user_id=ada.user.id)
    assert got.email == ada.user.email
    page = await accounts.list_users(requester=operator)
    assert [user.id for user in page.items] == [ada.user.id]


async def test_administration_by_a_plain_user_is_forbidden(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    plain = ada.user
    with pytest.raises(neodyme.Forbidden):
        await accounts.find_user(requester=plain, email="ada@example.com")
    with pytest.raises(neodyme.Forbidden):
        await accounts.list_users(requester=plain)
    with pytest.raises(neodyme.Forbidden):
        await accounts.set_user_active(requester=plain, user_id=plain.id, is_active=False)


async def test_an_unknown_user_is_user_not_found(accounts: Accounts) -> None:
    with pytest.raises(neodyme.UserNotFound):
        await accounts.find_user(requester=accounts.operator(), email="nobody@example.com")


async def test_a_deactivated_user_cannot_log_in(
    accounts: Accounts, ada: neodyme.Registered
) -> None:
    user = await accounts.set_user_active(
        requester=accounts.operator(), user_id=ada.user.id, is_active=False
    )

    assert user.is_active is False
    with pytest.raises(neodyme.AccountInactive):
        await accounts.authenticate(email="ada@example.com", password=PASSWORD)


async def test_seed_users_creates_accounts_that_share_the_password(accounts: Accounts) -> None:
    seeded = await accounts.seed_users(
        count=3, password=PASSWORD, first_names=["ada"], last_names=["byron"]
    )

    assert len(seeded) == 3
    listed = await accounts.list_users(requester=accounts.operator())
    assert {user.id for user in listed.items} == {user.id for user in seeded}
    session = await accounts.authenticate(email=seeded[0].email.value, password=PASSWORD)
    assert session.user.full_name == "Ada Byron"


# --- housekeeping ----------------------------------------------------------------------------


async def test_deliver_outbox_sends_what_is_queued(
    accounts: Accounts, ada: neodyme.Registered, notifier: RecordingNotifier
) -> None:
    delivery = await accounts.deliver_outbox()

    assert delivery.sent == 1
    assert [message.kind for message in notifier.sent] == ["welcome"]


async def test_purge_throttle_deletes_expired_states(
    accounts: Accounts, ada: neodyme.Registered, clock: ManualClock
) -> None:
    with pytest.raises(neodyme.InvalidCredentials):
        await accounts.authenticate(email="ada@example.com", password=WRONG)
    assert await accounts.purge_throttle() == 0

    clock.advance(timedelta(days=2))

    assert await accounts.purge_throttle() == 1


async def test_outbox_status_shows_the_backlog_and_retry_sends_failing_mail_now(
    accounts: Accounts, ada: neodyme.Registered, notifier: RecordingNotifier
) -> None:
    assert (await accounts.outbox_status()).pending == 1
    notifier.failure = ConnectionRefusedError("the mail server is down")
    await accounts.deliver_outbox()
    status = await accounts.outbox_status()
    assert (status.pending, status.failing, status.dead) == (1, 1, 0)
    notifier.failure = None

    # Its retry is not due yet (the clock stands still): only the retry makes it due now.
    assert (await accounts.deliver_outbox()).sent == 0
    assert await accounts.retry_outbox() == 1
    assert (await accounts.deliver_outbox()).sent == 1
    assert (await accounts.outbox_status()).pending == 0


async def test_retry_outbox_revives_dead_mail_only_when_asked(
    settings: neodyme.Settings, notifier: RecordingNotifier, clock: ManualClock
) -> None:
    with accounts_on(replace(settings, outbox_max_attempts=1), notifier, clock) as accounts:
        await accounts.register(email="ada@example.com", full_name="Ada", password=PASSWORD)
        notifier.failure = ConnectionRefusedError("the mail server is down")
        await accounts.deliver_outbox()
        assert (await accounts.outbox_status()).dead == 1
        notifier.failure = None

        assert await accounts.retry_outbox() == 0
        assert await accounts.retry_outbox(dead=True) == 1
        assert (await accounts.deliver_outbox()).sent == 1


async def test_sessions_are_listed_and_ended(accounts: Accounts, ada: neodyme.Registered) -> None:
    other = await accounts.authenticate(email="ada@example.com", password=PASSWORD)
    mine = await accounts.current_session(access_token=ada.tokens.access_token)

    views = await accounts.list_sessions(requester=ada.user, current=mine.session_id)
    assert sorted(v.current for v in views) == [False, True]
    theirs = await accounts.current_session(access_token=other.tokens.access_token)
    await accounts.end_session(requester=ada.user, session_id=theirs.session_id)

    with pytest.raises(neodyme.InvalidToken):
        await accounts.current_user(access_token=other.tokens.access_token)
    assert await accounts.end_other_sessions(requester=ada.user, keep=mine.session_id) == 0
    assert await accounts.end_other_sessions(requester=ada.user, keep=None) == 1


async def test_email_change_by_e_mailed_link(
    accounts: Accounts, ada: neodyme.Registered, notifier: RecordingNotifier
) -> None:
    await accounts.request_email_change(
        user=ada.user, new_email="ada@lovelace.example", password=PASSWORD
    )
    token = await link_token(accounts, notifier, "email_change")

    changed = await accounts.confirm_email_change(token=token)

    assert (changed.id, changed.email.value, changed.is_verified) == (
        ada.user.id,
        "ada@lovelace.example",
        True,
    )


async def test_two_factor_sign_in_in_process(accounts: Accounts, ada: neodyme.Registered) -> None:
    setup = await accounts.setup_totp(user=ada.user, password=PASSWORD)
    codes = await accounts.confirm_totp(user=ada.user, code=pyotp.TOTP(setup.secret).now())

    with pytest.raises(neodyme.MfaRequired) as asked:
        await accounts.authenticate(email="ada@example.com", password=PASSWORD)
    signed_in = await accounts.verify_mfa(mfa_token=asked.value.mfa_token, recovery_code=codes[0])
    user = signed_in.user

    fresh = await accounts.regenerate_recovery_codes(user=user, password=PASSWORD)
    await accounts.disable_totp(user=user, password=PASSWORD, code=fresh[0])
    assert (await accounts.authenticate(email="ada@example.com", password=PASSWORD)).user
    with pytest.raises(neodyme.MfaNotEnabled):
        await accounts.reset_mfa(requester=accounts.operator(), user_id=user.id)


async def test_passkeys_in_process(
    accounts: Accounts, settings: neodyme.Settings, ada: neodyme.Registered
) -> None:
    authenticator = SoftAuthenticator(origin=settings.public_url)
    options = await accounts.passkey_registration_options(user=ada.user, password=PASSWORD)
    added = await accounts.add_passkey(
        user=ada.user, credential=authenticator.create(options), name="Laptop"
    )
    assert await accounts.list_passkeys(user=ada.user) == [added]

    options = await accounts.passkey_sign_in_options()
    signed_in = await accounts.sign_in_with_passkey(credential=authenticator.get(options))
    assert signed_in.user.id == ada.user.id

    renamed = await accounts.rename_passkey(user=ada.user, passkey_id=added.id, name="Phone")
    assert renamed.name == "Phone"
    await accounts.remove_passkey(user=ada.user, passkey_id=added.id)
    with pytest.raises(neodyme.PasskeyNotFound):
        await accounts.remove_passkey(user=ada.user, passkey_id=added.id)
    answer = authenticator.get(await accounts.passkey_sign_in_options())
    with pytest.raises(neodyme.PasskeyRefused):
        await accounts.sign_in_with_passkey(credential=answer)


async def test_passkeys_answer_from_the_public_url_and_the_extra_origins_only(
    settings: neodyme.Settings, notifier: RecordingNotifier, clock: ManualClock
) -> None:
    configured = replace(
        settings, public_url="https://id.example", webauthn_origins="https://app.id.example"
    )
    with accounts_on(configured, notifier, clock) as accounts:
        ada = await accounts.register(email="ada@example.com", full_name="Ada", password=PASSWORD)
        for origin in ("https://id.example", "https://app.id.example"):
            options = await accounts.passkey_registration_options(user=ada.user, password=PASSWORD)
            answer = SoftAuthenticator(origin=origin).create(options)
            assert (
                await accounts.add_passkey(user=ada.user, credential=answer)
            ).user_id == ada.user.id
        options = await accounts.passkey_registration_options(user=ada.user, password=PASSWORD)
        elsewhere = SoftAuthenticator(origin="https://evil.example").create(options)
        with pytest.raises(neodyme.PasskeyInvalid):
            await accounts.add_passkey(user=ada.user, credential=elsewhere)
