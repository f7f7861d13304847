"""The composition root: the only place that knows every adapter and reads settings.

Infrastructure (engine, hasher, token service, notifier, dispatcher) are singletons; units
of work and use cases are factories, so each call gets a fresh one. All providers are
synchronous. Tests override providers (``container.notifier.override(...)``); nothing is
monkeypatched and nothing is built at import time.
"""

from __future__ import annotations

import logging

from dependency_injector import containers, providers

from neodyme_adapters.argon2_hasher import Argon2Hasher, Argon2Parameters
from neodyme_adapters.clock import SystemClock
from neodyme_adapters.common_passwords import common_passwords
from neodyme_adapters.fernet_box import FernetSecretBox, derived_key
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.key_ring import KeyRing
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.oidc import OidcProviders
from neodyme_adapters.prometheus_metrics import PrometheusMetrics
from neodyme_adapters.qr_svg import SegnoQrCodes
from neodyme_adapters.signing_keys import JoseKeyMaker
from neodyme_adapters.smtp_notifier import ConsoleNotifier, SmtpNotifier
from neodyme_adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine
from neodyme_adapters.totp import PyotpTotp
from neodyme_adapters.webauthn_ceremonies import PyWebAuthnCeremonies, RelyingParty
from neodyme_app.config import DERIVED_KEY, Environment, IpNetwork, Settings, origin_of
from neodyme_app.outbox_dispatcher import OutboxDispatcher
from neodyme_domain.accounts.confirm_email_change import ConfirmEmailChange
from neodyme_domain.accounts.request_email_change import RequestEmailChange
from neodyme_domain.federation.begin_federation import BeginFederation
from neodyme_domain.federation.complete_federation import CompleteFederation
from neodyme_domain.federation.confirm_link import ConfirmLink
from neodyme_domain.federation.list_identities import ListIdentities
from neodyme_domain.federation.unlink_identity import UnlinkIdentity
from neodyme_domain.mfa.confirm_totp import ConfirmTotp
from neodyme_domain.mfa.disable_totp import DisableTotp
from neodyme_domain.mfa.regenerate_recovery_codes import RegenerateRecoveryCodes
from neodyme_domain.mfa.reseal_secrets import ResealSecrets
from neodyme_domain.mfa.reset_mfa import ResetMfa
from neodyme_domain.mfa.setup_totp import SetupTotp
from neodyme_domain.mfa.verify_mfa import VerifyMfa
from neodyme_domain.passkeys.add_passkey import AddPasskey
from neodyme_domain.passkeys.begin_registration import BeginPasskeyRegistration
from neodyme_domain.passkeys.begin_sign_in import BeginPasskeySignIn
from neodyme_domain.passkeys.list_passkeys import ListPasskeys
from neodyme_domain.passkeys.remove_passkey import RemovePasskey
from neodyme_domain.passkeys.rename_passkey import RenamePasskey
from neodyme_domain.passkeys.sign_in import SignInWithPasskey
from neodyme_domain.passwords import PasswordPolicy, PolicyProfile, build_policy
from neodyme_domain.ports import PeopleSource
from neodyme_domain.sessions.end_other_sessions import EndOtherSessions
from neodyme_domain.sessions.end_session import EndSession
from neodyme_domain.sessions.list_sessions import ListSessions
from neodyme_domain.throttling import LoginLimits
from neodyme_domain.tokens.ensure_signing_key import EnsureSigningKey
from neodyme_domain.tokens.introspect_token import IntrospectToken
from neodyme_domain.tokens.list_signing_keys import ListSigningKeys
from neodyme_domain.tokens.reseal_signing_keys import ResealSigningKeys
from neodyme_domain.tokens.rotate_signing_key import RotateSigningKey
from neodyme_domain.use_cases import (
    AuthenticateUser,
    ChangePassword,
    DeleteAccount,
    DeliverOutbox,
    FindUserByEmail,
    GetCurrentUser,
    GetUser,
    LinkSettings,
    ListSecurityEvents,
    ListUsers,
    Logout,
    OutboxStatus,
    PurgeExpiredThrottles,
    RefreshTokens,
    RegisterUser,
    RequestPasswordReset,
    RequestVerification,
    ResetPassword,
    RetryOutbox,
    SeedRealisticUsers,
    SeedUsers,
    SetUserActive,
    UpdateProfile,
    VerifyEmail,
)


def _storage(settings: Settings) -> str:
    return "memory" if settings.uses_memory_storage else "sql"


def _notifier_kind(settings: Settings) -> str:
    return settings.email_delivery.value


def _shows_email_content(settings: Settings) -> bool:
    """The log backend prints whole messages, links included, except in production: there
    it says what was sent to whom, and a link's token never reaches the log."""
    return settings.environment is not Environment.PRODUCTION


def _connect_timeout(settings: Settings) -> float | None:
    """PostgreSQL: a bound on getting a live connection. SQLite waits for its write lock
    (``busy_timeout``) instead; see ``neodyme_adapters.sqlalchemy.engine``."""
    return settings.db_timeout if settings.database_url.startswith("postgres") else None


def _metrics(settings: Settings) -> PrometheusMetrics | None:
    return PrometheusMetrics() if settings.metrics else None


def _password_policy(settings: Settings) -> PasswordPolicy:
    wants_blocklist = settings.password_blocklist or settings.password_policy is PolicyProfile.NIST
    return build_policy(settings.password_policy, common_passwords() if wants_blocklist else None)


def _people(policy: PasswordPolicy) -> PeopleSource:
    """Faker is an optional extra (``neodyme[realistic]``): imported only when a command
    asks for invented people, never by a server."""
    from neodyme_adapters.faker_people import FakerPeople

    return FakerPeople(policy)


def _secret_box(settings: Settings) -> FernetSecretBox:
    """NEODYME_ENCRYPTION_KEYS, ``derived`` standing for the key derived from the secret key."""
    keys = settings.encryption_keys.split(",")
    return FernetSecretBox(
        [derived_key(settings.secret_key) if key == DERIVED_KEY else key.encode() for key in keys]
    )


def _key_ring(settings: Settings, box: FernetSecretBox) -> KeyRing | None:
    """The signing keys a process holds, when access tokens are asymmetric; loaded and
    kept fresh by ``neodyme_app.key_ring_refresh``."""
    if settings.signing_algorithm is None:
        return None
    return KeyRing(box, settings.key_lifetime)


def _ceremonies(settings: Settings) -> PyWebAuthnCeremonies:
    """The relying party is PUBLIC_URL's host, its pages PUBLIC_URL's origin and the extra
    ones of NEODYME_WEBAUTHN_ORIGINS (see neodyme_adapters.webauthn_ceremonies)."""
    origins = [origin_of(settings.public_url), *filter(None, settings.webauthn_origins.split(","))]
    return PyWebAuthnCeremonies(
        RelyingParty(
            id=settings.public_host, name=settings.mfa_issuer, origins=tuple(dict.fromkeys(origins))
        )
    )


def _trusted_proxies(settings: Settings) -> tuple[IpNetwork, ...]:
    # A singleton: parsed once, and the HTTP layer asks on every request who the client is.
    return settings.trusted_proxy_networks


def _login_limits(settings: Settings) -> LoginLimits:
    return settings.login_limits


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(_metrics, settings)
    """None with NEODYME_METRICS=false: then nothing is observed or counted."""
    password_policy = providers.Singleton(_password_policy, settings)
    trusted_proxies = providers.Singleton(_trusted_proxies, settings)
    # Values derived from the (frozen) settings are made once, not for every use case built
    # per request: login_limits is a property that builds its limits on each access.
    login_limits = providers.Singleton(_login_limits, settings)
    connect_timeout = providers.Singleton(_connect_timeout, settings)
    reset_links = providers.Singleton(
        LinkSettings, public_url=settings.provided.public_url, ttl=settings.provided.reset_ttl
    )
    verification_links = providers.Singleton(
        LinkSettings,
        public_url=settings.provided.public_url,
        ttl=settings.provided.verification_ttl,
    )
    email_change_links = providers.Singleton(
        LinkSettings,
        public_url=settings.provided.public_url,
        ttl=settings.provided.verification_ttl,
    )
    """An e-mail change link proves an address, as a verification link does: same lifetime."""
    totp = providers.Singleton(PyotpTotp)
    qr_codes = providers.Singleton(SegnoQrCodes)
    ceremonies = providers.Singleton(_ceremonies, settings)
    secret_box = providers.Singleton(_secret_box, settings)
    hasher = providers.Singleton(
        Argon2Hasher,
        parameters=providers.Factory(
            Argon2Parameters,
            memory_kib=settings.provided.argon2_memory_kib,
            time_cost=settings.provided.argon2_time_cost,
            parallelism=settings.provided.argon2_parallelism,
        ),
        max_concurrency=settings.provided.hash_concurrency,
        queue_limit=settings.provided.hash_queue_limit,
        observer=metrics,
    )
    key_ring = providers.Singleton(_key_ring, settings, secret_box)
    key_maker = providers.Singleton(JoseKeyMaker)
    identity_providers = providers.Singleton(
        OidcProviders, providers=settings.provided.identity_providers
    )
    tokens = providers.Singleton(
        JwtTokenService,
        ring=key_ring,
        secret=settings.provided.secret_key,
        clock=clock,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        access_ttl=settings.provided.access_ttl,
        refresh_ttl=settings.provided.refresh_ttl,
        leeway=settings.provided.jwt_leeway_delta,
    )
    notifier = providers.Selector(
        providers.Callable(_notifier_kind, settings),
        smtp=providers.Singleton(
            SmtpNotifier,
            host=settings.provided.smtp_host,
            port=settings.provided.smtp_port,
            from_address=settings.provided.email_from,
            username=settings.provided.smtp_username,
            password=settings.provided.smtp_password,
            tls=settings.provided.smtp_tls,
            timeout=settings.provided.smtp_timeout,
            ca_file=settings.provided.smtp_ca_file,
        ),
        log=providers.Singleton(
            ConsoleNotifier,
            logger=logging.getLogger("neodyme.email"),
            show_content=providers.Callable(_shows_email_content, settings),
        ),
    )

    engine = providers.Singleton(
        make_engine,
        settings.provided.database_url,
        pool_size=settings.provided.db_pool_size,
        pool_timeout=settings.provided.db_timeout,
        pool_observer=metrics,
    )
    memory_database = providers.Singleton(MemoryDatabase)

    dispatcher = providers.Singleton(
        OutboxDispatcher, poll_seconds=settings.provided.outbox_poll_seconds, clock=clock
    )
    uow = providers.Selector(
        providers.Callable(_storage, settings),
        sql=providers.Factory(
            SqlAlchemyUnitOfWork,
            engine=engine,
            after_commit=dispatcher.provided.wake,
            connect_timeout=connect_timeout,
            pool_observer=metrics,
        ),
        memory=providers.Factory(
            InMemoryUnitOfWork, memory_database, after_commit=dispatcher.provided.wake
        ),
    )
    reader = providers.Selector(
        providers.Callable(_storage, settings),
        sql=providers.Factory(
            SqlAlchemyUnitOfWork,
            engine=engine,
            connect_timeout=connect_timeout,
            read_only=True,
            pool_observer=metrics,
        ),
        memory=providers.Factory(InMemoryUnitOfWork, memory_database, read_only=True),
    )
    """For the use cases that only read: the token check on every request above all."""

    register_user = providers.Factory(
        RegisterUser,
        uow=uow,
        reader=reader,
        hasher=hasher,
        policy=password_policy,
        tokens=tokens,
        clock=clock,
    )
    authenticate_user = providers.Factory(
        AuthenticateUser,
        uow=uow,
        reader=reader,
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        limits=login_limits,
        monitor=metrics,
        new_device_window=settings.provided.new_device_window,
    )
    purge_throttle = providers.Factory(PurgeExpiredThrottles, uow=uow, clock=clock)
    refresh_tokens = providers.Factory(RefreshTokens, uow=uow, tokens=tokens, clock=clock)
    get_current_user = providers.Factory(GetCurrentUser, uow=reader, tokens=tokens, clock=clock)
    get_user = providers.Factory(GetUser, uow=reader)
    list_sessions = providers.Factory(ListSessions, uow=reader, clock=clock)
    end_session = providers.Factory(EndSession, uow=uow, clock=clock)
    end_other_sessions = providers.Factory(EndOtherSessions, uow=uow, clock=clock)
    deliver_outbox = providers.Factory(
        DeliverOutbox,
        uow=uow,
        notifier=notifier,
        clock=clock,
        retry_base=settings.provided.outbox_retry,
        retry_ceiling=settings.provided.outbox_max_retry,
        lease=settings.provided.outbox_lease,
        max_attempts=settings.provided.outbox_max_attempts,
    )
    outbox_status = providers.Factory(OutboxStatus, uow=reader)
    retry_outbox = providers.Factory(RetryOutbox, uow=uow, clock=clock)
    logout = providers.Factory(Logout, uow=uow, tokens=tokens, clock=clock)
    rotate_signing_key = providers.Factory(
        RotateSigningKey,
        uow=uow,
        maker=key_maker,
        box=secret_box,
        clock=clock,
        lifetime=settings.provided.key_lifetime,
        publish_ahead=settings.provided.key_publish_ahead,
    )
    ensure_signing_key = providers.Factory(EnsureSigningKey, uow=uow, rotate=rotate_signing_key)
    introspect_token = providers.Factory(
        IntrospectToken,
        uow=uow,
        reader=reader,
        current_user=get_current_user,
        clients=settings.provided.introspection_digests,
        clock=clock,
        limits=login_limits.provided.address,
    )
    list_signing_keys = providers.Factory(
        ListSigningKeys, uow=reader, clock=clock, lifetime=settings.provided.key_lifetime
    )
    change_password = providers.Factory(
        ChangePassword, uow=uow, hasher=hasher, policy=password_policy, clock=clock
    )
    request_password_reset = providers.Factory(
        RequestPasswordReset,
        uow=uow,
        clock=clock,
        links=reset_links,
        limits=login_limits.provided.address,
    )
    reset_password = providers.Factory(
        ResetPassword, uow=uow, hasher=hasher, policy=password_policy, clock=clock
    )
    request_verification = providers.Factory(
        RequestVerification, uow=uow, clock=clock, links=verification_links
    )
    verify_email = providers.Factory(VerifyEmail, uow=uow, clock=clock)
    request_email_change = providers.Factory(
        RequestEmailChange, uow=uow, hasher=hasher, clock=clock, links=email_change_links
    )
    confirm_email_change = providers.Factory(ConfirmEmailChange, uow=uow, clock=clock)
    setup_totp = providers.Factory(
        SetupTotp,
        uow=uow,
        hasher=hasher,
        totp=totp,
        qr=qr_codes,
        box=secret_box,
        clock=clock,
        issuer=settings.provided.mfa_issuer,
    )
    confirm_totp = providers.Factory(ConfirmTotp, uow=uow, totp=totp, box=secret_box, clock=clock)
    verify_mfa = providers.Factory(
        VerifyMfa,
        uow=uow,
        totp=totp,
        box=secret_box,
        tokens=tokens,
        clock=clock,
        limits=login_limits,
        new_device_window=settings.provided.new_device_window,
        monitor=metrics,
    )
    regenerate_recovery_codes = providers.Factory(
        RegenerateRecoveryCodes, uow=uow, hasher=hasher, clock=clock
    )
    disable_totp = providers.Factory(
        DisableTotp, uow=uow, hasher=hasher, totp=totp, box=secret_box, clock=clock
    )
    reset_mfa = providers.Factory(ResetMfa, uow=uow, clock=clock)
    begin_passkey_registration = providers.Factory(
        BeginPasskeyRegistration, uow=uow, hasher=hasher, ceremonies=ceremonies, clock=clock
    )
    add_passkey = providers.Factory(AddPasskey, uow=uow, ceremonies=ceremonies, clock=clock)
    list_passkeys = providers.Factory(ListPasskeys, uow=reader)
    rename_passkey = providers.Factory(RenamePasskey, uow=uow)
    remove_passkey = providers.Factory(RemovePasskey, uow=uow, clock=clock)
    begin_passkey_sign_in = providers.Factory(
        BeginPasskeySignIn, uow=uow, ceremonies=ceremonies, clock=clock
    )
    sign_in_with_passkey = providers.Factory(
        SignInWithPasskey,
        uow=uow,
        ceremonies=ceremonies,
        tokens=tokens,
        clock=clock,
        new_device_window=settings.provided.new_device_window,
        monitor=metrics,
    )
    begin_federation = providers.Factory(
        BeginFederation, uow=uow, providers=identity_providers, clock=clock
    )
    complete_federation = providers.Factory(
        CompleteFederation,
        uow=uow,
        providers=identity_providers,
        tokens=tokens,
        clock=clock,
        new_device_window=settings.provided.new_device_window,
    )
    confirm_link = providers.Factory(
        ConfirmLink, uow=uow, authenticate=authenticate_user, clock=clock
    )
    list_identities = providers.Factory(ListIdentities, uow=reader)
    unlink_identity = providers.Factory(UnlinkIdentity, uow=uow, clock=clock)
    reseal_secrets = providers.Factory(ResealSecrets, uow=uow, box=secret_box)
    reseal_signing_keys = providers.Factory(ResealSigningKeys, uow=uow, box=secret_box)
    update_profile = providers.Factory(UpdateProfile, uow=uow, clock=clock)
    delete_account = providers.Factory(DeleteAccount, uow=uow, hasher=hasher, clock=clock)
    list_users = providers.Factory(ListUsers, uow=reader)
    set_user_active = providers.Factory(SetUserActive, uow=uow, clock=clock)
    list_security_events = providers.Factory(ListSecurityEvents, uow=reader)
    find_user = providers.Factory(FindUserByEmail, uow=reader)
    seed_users = providers.Factory(
        SeedUsers, uow=uow, hasher=hasher, policy=password_policy, clock=clock
    )
    people = providers.Singleton(_people, password_policy)
    seed_realistic_users = providers.Factory(
        SeedRealisticUsers,
        uow=uow,
        hasher=hasher,
        policy=password_policy,
        clock=clock,
        people=people,
        hash_concurrency=hasher.provided.max_concurrency,
    )


def build_container(settings: Settings) -> Container:
    """The one way to assemble neodyme, for the server, the CLI and in-process callers."""
    return Container(settings=settings.validated())
