"""The schema, as SQLAlchemy Core tables. The domain's classes are never mapped onto them:
``mapping.py`` turns rows into entities and back.

Every timestamp column is a ``UtcDateTime``: SQLite has no time zone type and hands back
naive datetimes, so the type normalises to UTC on the way in (also for values compared in
a WHERE clause, which keeps SQLite's text comparison correct) and re-attaches UTC on the
way out. Both databases keep microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)

# Deterministic constraint names, so a later migration can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that accepts only aware datetimes and returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive datetime is ambiguous; storing it would silently shift it by the
            # server's offset on PostgreSQL and compare wrongly on SQLite.
            raise ValueError(f"naive datetime {value!r}: neodyme stores timezone-aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[Any]:
        return datetime


users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    # The display form (Email.value) and the lower-cased key the unique index holds.
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False),
    Column("full_name", String(200), nullable=False),
    Column("hashed_password", String(255), nullable=False),
    Column("is_active", Boolean(), nullable=False),
    Column("is_verified", Boolean(), nullable=False),
    Column("is_superuser", Boolean(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # Bumped to revoke every access token and one-time link issued before (User.token_version).
    Column("token_version", Integer(), nullable=False, default=0, server_default=text("0")),
    Column("mfa_enabled", Boolean(), nullable=False, default=False, server_default=text("false")),
    Index("ux_users_email_key", "email_key", unique=True),
    # Keyset pagination of user lists: ORDER BY created_at, id.
    Index("ix_users_created_at_id", "created_at", "id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("family_id", String(64), nullable=False, index=True),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("purpose", String(32), nullable=False),
    Column("user_stamp", Integer(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    # The address an e-mail change link switches to (purpose email_change only).
    Column("new_email", String(254), nullable=True),
)

email_outbox = Table(
    "email_outbox",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("body", Text(), nullable=False),
    Column("data", JSON(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, default=0, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("dead_at", UtcDateTime(), nullable=True),
    # claim_due: WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now; the
    # backlog and requeue: WHERE sent_at IS NULL (the unsent rows, not the sent history).
    Index(
        "ix_email_outbox_sent_at_dead_at_next_attempt_at", "sent_at", "dead_at", "next_attempt_at"
    ),
)

security_events = Table(
    "security_events",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("type", String(64), nullable=False),
    # No foreign key on purpose: the audit trail outlives a deleted account.
    Column("user_id", Uuid(), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False, index=True),
    Column("client_ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
    Column("data", JSON(), nullable=False),
    # A user's history, newest first: WHERE user_id = ? ORDER BY occurred_at DESC, id DESC.
    # It also serves every lookup by user_id alone, so there is no single-column index.
    Index("ix_security_events_user_id_occurred_at_id", "user_id", "occurred_at", "id"),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    # account:<e-mail key>, address:<ip or /64>, reset:<ip or /64> (neodyme_domain.throttling)
    Column("key", String(320), primary_key=True),
    Column("window_start", UtcDateTime(), nullable=False),
    Column("failures", Integer(), nullable=False),
    Column("lockouts", Integer(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    # purge_expired: WHERE expires_at <= now.
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

sessions = Table(
    "sessions",
    metadata,
    # The refresh family's id (refresh_tokens.family_id) and the access tokens' sid.
    Column("id", String(64), primary_key=True),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("user_agent", String(512), nullable=True),
    Column("client_ip", String(64), nullable=True),
    Column("ended_at", UtcDateTime(), nullable=True),
    # A user's sessions (list, end all, devices seen since): WHERE user_id = ?; it also
    # serves the foreign key's cascade.
    Index("ix_sessions_user_id_last_used_at", "user_id", "last_used_at"),
)

totp_authenticators = Table(
    "totp_authenticators",
    metadata,
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # Sealed by the SecretBox (Fernet): never the secret itself.
    Column("sealed_secret", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    Column("last_used_step", BigInteger(), nullable=True),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("code_digest", String(64), primary_key=True),
    Column("used_at", UtcDateTime(), nullable=True),
)

mfa_challenges = Table(
    "mfa_challenges",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column(
        "user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("user_stamp", Integer(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
    Column("failures", Integer(), nullable=False, default=0, server_default=text("0")),
    Column("used_at", UtcDateTime(), nullable=True),
)

passkeys = Table(
    "passkeys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    # base64url; unique across users: an authenticator's credential is one account's.
    Column("credential_id", String(1400), nullable=False, unique=True),
    Column("public_key", LargeBinary(), nullable=False),
    Column("sign_count", BigInteger(), nullable=False),
    Column("name", String(100), nullable=False),
    # Space-separated WebAuthn transport names ("internal hybrid"): hints, never queried.
    Column("transports", String(200), nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("backup_eligible", Boolean(), nullable=False),
    Column("backed_up", Boolean(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=True),
)

webauthn_challenges = Table(
    "webauthn_challenges",
    metadata,
    Column("challenge_digest", String(64), primary_key=True),
    Column("ceremony", String(16), nullable=False),
    Column(
        "user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    Column("mfa_digest", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
    Column("used_at", UtcDateTime(), nullable=True),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    # The primary key: two rotations at once cannot both add the next generation.
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("kid", String(64), nullable=False, unique=True),
    Column("algorithm", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("sealed_private_key", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("active_from", UtcDateTime(), nullable=False),
)

linked_identities = Table(
    "linked_identities",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    # OpenID Connect Core 5.7: (iss, sub) names a provider's user; the provider's name
    # stands for its issuer. Unique: one provider account signs in to one neodyme account.
    Column("provider", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("email", String(254), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("provider", "subject"),
)

federation_requests = Table(
    "federation_requests",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
    Column("nonce", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("redirect_uri", String(2048), nullable=False),
    Column(
        "user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    Column("subject", String(255), nullable=False),
    Column("email", String(254), nullable=False),
)
