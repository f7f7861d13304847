"""The ports: what the use cases need from the outside world, as structural Protocols.

Stateful ports (users, refresh tokens, outbox, events) are reached through a
``UnitOfWork`` so that everything one use case writes commits or rolls back together: a
user is never stored without its welcome e-mail in the outbox, and a registration event is
never recorded for a registration that rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Literal, Protocol, Self

from neodyme_domain.federation.model import (
    FederationRequest,
    LinkedIdentity,
    ProviderClaims,
    ProviderInfo,
)
from neodyme_domain.messages import EmailMessage, OutboxBacklog, OutboxEntry, SecurityEvent
from neodyme_domain.mfa.model import MfaChallenge, TotpAuthenticator
from neodyme_domain.model import Email, User, UserId
from neodyme_domain.pagination import Position
from neodyme_domain.passkeys.model import (
    NewCredential,
    Passkey,
    VerifiedAssertion,
    WebAuthnChallenge,
)
from neodyme_domain.sessions.model import Session
from neodyme_domain.throttling import ThrottleState
from neodyme_domain.tokens.model import (
    AccessClaims,
    OneTimeTokenRecord,
    RefreshClaims,
    RefreshTokenRecord,
)
from neodyme_domain.tokens.signing_keys import KeyMaterial, SigningAlgorithm, SigningKey


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Store a new user; raise EmailAlreadyExists if the e-mail is taken (in any case)."""

    async def get(self, user_id: UserId) -> User | None: ...

    async def get_by_email(self, email: Email) -> User | None:
        """Look up by the e-mail's normalised key, so case variants find the same user."""

    async def update(self, user: User) -> None:
        """Persist the user's current state (its methods have already moved updated_at)."""

    async def delete(self, user_id: UserId) -> None:
        """Remove the user with their refresh and one-time tokens (events stay)."""

    async def list_after(self, after: Position | None, limit: int) -> list[User]:
        """Users ordered by (created_at, id), strictly after ``after``; at most ``limit``."""


class RefreshTokenStore(Protocol):
    async def add(self, record: RefreshTokenRecord) -> None: ...

    async def get(self, token_digest: str) -> RefreshTokenRecord | None: ...

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        """Mark an unused, unrevoked token used. Atomic: of two concurrent callers exactly
        one gets True, so a token can never be rotated twice."""

    async def revoke_family(self, family_id: str, at: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UserId, at: datetime) -> None:
        """Revoke every unrevoked refresh token of the user (all sessions end)."""


class OneTimeTokenStore(Protocol):
    """E-mailed link tokens (reset, verification), kept by digest only."""

    async def add(self, record: OneTimeTokenRecord) -> None: ...

    async def get(self, token_digest: str) -> OneTimeTokenRecord | None: ...

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        """Atomic like ``RefreshTokenStore.mark_used``: of concurrent callers one gets True."""


class Outbox(Protocol):
    async def add(self, message: EmailMessage, at: datetime) -> None:
        """Queue an e-mail in the caller's transaction: it exists if and only if the change
        that caused it was committed."""

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxEntry]:
        """Unsent entries due at ``now``, pushed ``lease`` into the future so that no other
        dispatcher (in this or another process) takes them meanwhile."""

    async def mark_sent(self, entry_id: uuid.UUID, at: datetime) -> None: ...

    async def mark_failed(self, entry_id: uuid.UUID, error: str, retry_at: datetime) -> None:
        """Count one more failed attempt and schedule the next at ``retry_at``."""

    async def mark_dead(self, entry_id: uuid.UUID, error: str, at: datetime) -> None:
        """Count the last failed attempt and give up: the entry is dead, never claimed
        again (until ``requeue`` with ``include_dead``)."""

    async def backlog(self) -> OutboxBacklog:
        """Counts of the unsent entries. Reads only unsent rows, not the history of sent
        ones, so it stays cheap as the outbox grows."""

    async def requeue(self, now: datetime, *, include_dead: bool) -> int:
        """Make every failing entry (unsent, not dead, attempted at least once) due at
        ``now``; with ``include_dead`` dead entries too, revived with their attempts reset
        to zero (a full budget again). Returns how many entries were touched."""


class EventRecorder(Protocol):
    async def record(self, event: SecurityEvent) -> None:
        """Keep an event in the caller's transaction."""

    async def list_for_user(
        self, user_id: UserId, before: Position | None, limit: int
    ) -> list[SecurityEvent]:
        """The user's events newest first, by (occurred_at, id) descending, strictly
        before ``before``; at most ``limit``."""


class LoginThrottle(Protocol):
    """Throttle states by key (see ``neodyme_domain.throttling``), in the caller's
    transaction: every process and server sharing the store shares the counts."""

    async def get(self, key: str) -> ThrottleState | None:
        """The key's state, read for update: until this transaction ends, another
        transaction's ``get`` of the same key waits, also while the key has no state yet,
        so that concurrent failures are never lost. Take several keys in sorted order."""

    async def any_recorded(self, keys: Sequence[str]) -> bool:
        """Whether any of ``keys`` has a state (expired or not), read as a snapshot
        without locking: a cheap first look that lets a clean record skip ``get``."""

    async def put(self, state: ThrottleState) -> None:
        """Store the state of ``state.key``, replacing any previous one."""

    async def delete(self, key: str) -> None: ...

    async def purge_expired(self, now: datetime) -> int:
        """Delete the states expired at ``now``; return how many there were."""


# --- sessions ------------------------------------------------------------------------


class SessionStore(Protocol):
    """Sessions by id (the refresh family's id). Ending a session here is what makes its
    access tokens fail (``GetCurrentUser``); its refresh tokens are revoked through
    ``RefreshTokenStore`` in the same transaction."""

    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def get_with_user(self, session_id: str) -> tuple[Session, User] | None:
        """The session and the account holding it, in one read: the check every
        authenticated request makes (``GetCurrentUser``)."""

    async def touch(self, session_id: str, at: datetime) -> None:
        """Move ``last_used_at`` to ``at`` (never backwards)."""

    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        """The user's sessions that are neither ended nor expired at ``now``, most
        recently used first (then by id)."""

    async def end(self, session_id: str, at: datetime) -> bool:
        """End a live session. Atomic: of concurrent callers exactly one gets True; False
        for an unknown or already ended session."""

    async def end_all_for_user(
        self, user_id: UserId, at: datetime, *, keep: str | None = None
    ) -> list[str]:
        """End every unended session of the user except ``keep``; return the ids ended."""

    async def has_any(self, user_id: UserId) -> bool:
        """Whether the user has ever had a session (ended or not) that is still on record."""

    async def seen_device(
        self, user_id: UserId, user_agent: str | None, client_ip: str | None, since: datetime
    ) -> bool:
        """Whether a session of the user (ended or not) with this exact user agent and
        client address was created or used at or after ``since``; None matches None."""


# --- second factor ---------------------------------------------------------------------


class TotpStore(Protocol):
    """At most one TOTP authenticator per user (pending or confirmed)."""

    async def get(self, user_id: UserId) -> TotpAuthenticator | None: ...

    async def put(self, authenticator: TotpAuthenticator) -> None:
        """Store the user's authenticator, replacing any previous one."""

    async def use_step(self, user_id: UserId, step: int) -> bool:
        """Record that a code of time step ``step`` was accepted, if ``step`` is later than
        the last one recorded. Atomic: of concurrent callers with the same code exactly
        one gets True (no replay)."""

    async def delete(self, user_id: UserId) -> bool:
        """Remove the user's authenticator; False if there was none."""

    async def list_all(self) -> list[TotpAuthenticator]:
        """Every authenticator, for re-sealing their secrets under a new key."""


class RecoveryCodeStore(Protocol):
    """A user's current set of recovery codes, by digest only."""

    async def replace(self, user_id: UserId, digests: Sequence[str]) -> None:
        """Make ``digests`` the user's set: every code of the previous set dies."""

    async def use(self, user_id: UserId, code_digest: str, at: datetime) -> bool:
        """Spend an unused code of the user's current set. Atomic: of concurrent callers
        with the same code exactly one gets True."""

    async def remaining(self, user_id: UserId) -> int:
        """How many codes of the current set are unused."""

    async def delete_all(self, user_id: UserId) -> None: ...


class MfaChallengeStore(Protocol):
    """Logins waiting for their second factor, by the digest of their ``mfa_token``."""

    async def add(self, challenge: MfaChallenge) -> None: ...

    async def get(self, token_digest: str) -> MfaChallenge | None: ...

    async def count_failure(self, token_digest: str) -> int:
        """Add one wrong code to the challenge, atomically; return the new count."""

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        """Spend an unused challenge. Atomic: of concurrent callers exactly one gets True."""

    async def purge_expired(self, now: datetime) -> int:
        """Delete the challenges expired at ``now``; return how many there were."""


class TotpAlgorithm(Protocol):
    """RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps (what authenticator apps expect)."""

    def new_secret(self) -> str:
        """A random base32 secret of 160 bits (RFC 4226 section 4 recommends 160)."""

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        """The ``otpauth://totp/...`` URI an authenticator app reads from the QR code."""

    def step_at(self, at: datetime) -> int:
        """The time step ``at`` falls in (RFC 6238 ``T``)."""

    def code_at(self, secret: str, step: int) -> str:
        """The code of ``step``: what the app shows during that step."""

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        """The step within one step of ``at`` (before, same, after) whose code is
        ``code``, compared in constant time; None if none matches."""


class QrCodes(Protocol):
    def svg(self, text: str) -> str:
        """``text`` as a QR code, an SVG document a browser displays."""


class SecretBox(Protocol):
    """Authenticated encryption of small secrets at rest (the TOTP secrets), with key
    rotation: the newest key seals, every configured key opens."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, sealed: str) -> str:
        """The plaintext; raise ``SecretUnreadable`` if no configured key opens it."""

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the newest key."""


# --- passkeys ------------------------------------------------------------------------


class PasskeyStore(Protocol):
    """Users' passkeys. A credential id is registered once, across all users."""

    async def add(self, passkey: Passkey) -> bool:
        """Store a new passkey; False (nothing stored) if its credential id is taken."""

    async def get(self, passkey_id: str) -> Passkey | None: ...

    async def by_credential(self, credential_id: str) -> Passkey | None: ...

    async def list_for(self, user_id: UserId) -> list[Passkey]:
        """The user's passkeys, oldest first (then by id)."""

    async def count_for(self, user_id: UserId) -> int: ...

    async def rename(self, passkey_id: str, name: str) -> None: ...

    async def delete(self, passkey_id: str) -> bool:
        """Remove the passkey; False if there was none."""

    async def record_use(
        self, passkey_id: str, *, seen_count: int, sign_count: int, backed_up: bool, at: datetime
    ) -> bool:
        """Store an assertion's counter and backup state, if the stored counter is still
        ``seen_count``. Atomic: of concurrent assertions read at one counter exactly one
        gets True, so a replayed or cloned assertion cannot pass twice."""


class WebAuthnChallengeStore(Protocol):
    """Challenges of ceremonies in progress, by digest: single use, expiring."""

    async def add(self, challenge: WebAuthnChallenge) -> None: ...

    async def take(self, challenge_digest: str, at: datetime) -> WebAuthnChallenge | None:
        """Spend the challenge: the record if it was unused and unexpired at ``at``, else
        None. Atomic: of concurrent callers exactly one gets the record."""

    async def purge_expired(self, now: datetime) -> int:
        """Delete the challenges expired at ``now``; return how many there were."""


class WebAuthnCeremonies(Protocol):
    """WebAuthn Level 2 for one relying party (its id and origins are the adapter's
    configuration): the options a browser is given, and the verification of its answers.

    Options and answers travel as the JSON the WebAuthn Level 3 serialisation defines
    (``PublicKeyCredentialCreationOptionsJSON``, ``RegistrationResponseJSON``, ...).
    Verification failures raise ``PasskeyInvalid`` with the reason in its context.
    """

    def registration_options(
        self,
        *,
        challenge: bytes,
        user_handle: bytes,
        user_name: str,
        display_name: str,
        exclude: Sequence[str],
    ) -> dict[str, object]: ...

    def verify_registration(self, answer: dict[str, object], *, challenge: bytes) -> NewCredential:
        """The new credential, once its attestation, origin, rp id, challenge and user
        presence and verification check out."""

    def authentication_options(
        self, *, challenge: bytes, allow: Sequence[str]
    ) -> dict[str, object]:
        """Options for an assertion; ``allow`` empty asks for a discoverable credential."""

    def verify_authentication(
        self, answer: dict[str, object], *, challenge: bytes, public_key: bytes
    ) -> VerifiedAssertion:
        """The assertion's counter and flags, once its signature under ``public_key``,
        origin, rp id, challenge and user presence and verification check out. The
        counter is reported, not judged: whether it went backwards is the domain's call
        (``passkeys.sign_in``), which records it."""

    def challenge_of(self, answer: dict[str, object]) -> bytes | None:
        """The challenge an answer signed (from its client data), unverified: which
        stored challenge to check it against; None if the answer has none."""

    def credential_id_of(self, answer: dict[str, object]) -> str:
        """The credential id an answer names, unverified; "" if it names none (no
        passkey has that id)."""


# --- federation ------------------------------------------------------------------------


class LinkedIdentityStore(Protocol):
    """Identities of other providers linked to accounts, unique by (provider, subject)."""

    async def add(self, identity: LinkedIdentity) -> bool:
        """Store the link; False (nothing stored) if the provider's subject is linked to an
        account already."""

    async def by_subject(self, provider: str, subject: str) -> LinkedIdentity | None: ...

    async def for_user(self, user_id: UserId) -> list[LinkedIdentity]:
        """The user's linked identities, oldest first (then by id)."""

    async def delete(self, identity_id: UserId) -> bool:
        """Remove the link; False if there was none."""


class FederationRequestStore(Protocol):
    """Flows in progress (``federation.model.FederationRequest``), by digest: single use,
    expiring."""

    async def add(self, request: FederationRequest) -> None: ...

    async def take(self, digest: str, at: datetime) -> FederationRequest | None:
        """Spend the request: the record if it is there and unexpired at ``at``, else None.
        Atomic: of concurrent callers exactly one gets the record, which is deleted."""

    async def purge_expired(self, now: datetime) -> int:
        """Delete the requests expired at ``now``; return how many there were."""


class IdentityProviders(Protocol):
    """The OpenID Connect providers of the settings, as a relying party sees them
    (discovery, authorization code flow with PKCE, ID token verification: a kept
    library's job). A provider that cannot be reached raises ``ProviderUnavailable``; an
    answer that proves nothing, ``FederationRefused`` (the reason in its context)."""

    def providers(self) -> Sequence[ProviderInfo]: ...

    async def authorization_url(
        self, provider: str, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        """The provider's authorization endpoint with the request's parameters (scope
        ``openid email profile``, PKCE S256 from ``code_verifier``); ``ProviderNotFound``
        for a name the settings do not hold."""

    async def claims(
        self, provider: str, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> ProviderClaims:
        """Exchange the code, then verify the ID token: signature against the provider's
        JWKS, ``iss``, ``aud``, ``exp``, ``iat`` and that ``nonce`` is the request's."""


# --- tokens ----------------------------------------------------------------------------


class SigningKeyStore(Protocol):
    """The asymmetric keys that sign access tokens (``tokens.signing_keys``)."""

    async def add(self, key: SigningKey) -> bool:
        """Store the key; False (nothing stored) if its generation is taken."""

    async def all(self) -> list[SigningKey]:
        """Every stored key, oldest generation first."""

    async def delete(self, kids: Sequence[str]) -> None: ...

    async def reseal(self, kid: str, sealed_private_key: str) -> None:
        """Store the key's private key sealed anew (encryption key rotation)."""


class KeyMaker(Protocol):
    """Fresh asymmetric key pairs (a cryptography library's job, not the domain's)."""

    def make(self, algorithm: SigningAlgorithm) -> KeyMaterial: ...


class UnitOfWork(Protocol):
    """One transaction. Entering opens it; leaving without ``commit`` rolls it back.

    A unit of work may be entered again after it was left: each entry is a new transaction.
    """

    # Read-only properties: an adapter may expose its own repository types.
    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenStore: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def events(self) -> EventRecorder: ...

    @property
    def one_time_tokens(self) -> OneTimeTokenStore: ...

    @property
    def throttle(self) -> LoginThrottle: ...

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def totp(self) -> TotpStore: ...

    @property
    def recovery_codes(self) -> RecoveryCodeStore: ...

    @property
    def mfa_challenges(self) -> MfaChallengeStore: ...

    @property
    def passkeys(self) -> PasskeyStore: ...

    @property
    def webauthn_challenges(self) -> WebAuthnChallengeStore: ...

    @property
    def signing_keys(self) -> SigningKeyStore: ...

    @property
    def linked_identities(self) -> LinkedIdentityStore: ...

    @property
    def federation_requests(self) -> FederationRequestStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class PasswordHasher(Protocol):
    """Slow, salted password hashing. Async because the work runs off the event loop."""

    async def hash(self, password: str) -> str:
        """Hash the NFKC form of the password (see ``passwords.normalise``), never
        truncated, so that equivalent spellings of one password match."""

    async def verify(self, hashed: str, password: str) -> bool:
        """True if the password matches; False for a wrong password or an unreadable hash."""

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one verify, for lookups that found no user (equal timing)."""

    def needs_rehash(self, hashed: str) -> bool:
        """True if the hash was made with other parameters than the current ones."""


class TokenService(Protocol):
    """Signed, self-contained tokens. Synchronous: signing takes microseconds."""

    @property
    def access_ttl(self) -> timedelta: ...

    @property
    def refresh_ttl(self) -> timedelta: ...

    def issue_access(self, user: User, now: datetime, session_id: str) -> str:
        """An access token of the session ``session_id`` (its ``sid`` claim)."""

    def issue_refresh(
        self, user_id: UserId, family_id: str, token_id: str, now: datetime, expires_at: datetime
    ) -> str: ...

    def decode_access(self, token: str) -> AccessClaims:
        """Raise InvalidToken for anything but a valid, unexpired access token."""

    def decode_refresh(self, token: str) -> RefreshClaims:
        """Raise InvalidToken for anything but a valid, unexpired refresh token."""


class Notifier(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver now, or raise: the outbox dispatcher retries failures."""


LoginOutcome = Literal["success", "invalid", "locked", "inactive", "mfa_required"]
"""How a login ended: tokens issued; wrong password or unknown address (one outcome, as
for the caller), or a wrong second-factor code; refused by throttling; right password on
a deactivated account; right password on an account with a second factor (the login
continues at ``POST /auth/mfa/verify``, whose outcome is counted again)."""

LockoutScope = Literal["account", "address"]


class LoginMonitor(Protocol):
    """What operators count about sign-in (the metrics): each login's outcome and each
    lockout that takes effect. Told after the fact, on the login's own path: an
    implementation only increments, never blocks and never raises."""

    def login(self, outcome: LoginOutcome) -> None: ...

    def lockout(self, scope: LockoutScope) -> None:
        """A throttle key (one account, or one client address) has just been locked out."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who could sign up, as a registration form would receive them: raw text, not
    yet parsed (the use case that stores them parses and checks like any registration)."""

    full_name: str
    email: str
    password: str


class PeopleSource(Protocol):
    """Invented people for demos and load tests (``neodyme seed --realistic``)."""

    def people(self, seed: int) -> Iterator[Person]:
        """An endless stream, the same for the same seed: plausible names, addresses unique
        within the stream (compared case-insensitively), and distinct passwords that pass
        the password policy the source was made with."""
