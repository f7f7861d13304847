"""Settings from ``NEODYME_*`` environment variables, validated once at start.

Every value is checked before the service starts: a bad value stops it with a one-line
message naming the variable (the CLI exits with code 2), rather than failing on the first
request that happens to need it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.exc import ArgumentError

from neodyme_adapters.sqlalchemy.engine import to_async_url
from neodyme_domain.passwords import PolicyProfile
from neodyme_domain.throttling import LoginLimits, ThrottleLimits

PREFIX = "NEODYME_"
MIN_PRODUCTION_SECRET_BYTES = 32
DEV_SECRET_FILE = Path(".neodyme-dev-secret")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    PRODUCTION = "production"


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class SettingsError(ValueError):
    """A setting that cannot be used; ``str()`` is the one-line message for the operator."""


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:  # also refuses nan
        raise ValueError("must be a positive number")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port (1-65535)")
    return value


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _database_url(raw: str) -> str:
    """memory://, or a URL the SQL adapters can drive (PostgreSQL or an SQLite file)."""
    if raw == "memory://":
        return raw
    try:
        to_async_url(raw)
    except (ValueError, ArgumentError) as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    return raw


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(raw: str) -> str:
    """Comma-separated IP addresses or CIDR networks, normalised."""
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    try:
        return ",".join(str(ipaddress.ip_network(entry, strict=False)) for entry in entries)
    except ValueError as exc:
        raise ValueError(f"expected comma-separated IP addresses or networks ({exc})") from None


def _optional(raw: str) -> str | None:
    return raw or None


def _setting(default: Any, parse: Callable[[str], Any] = str, doc: str = "") -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True, slots=True)
class Settings:
    """All configuration. Field ``x`` is read from ``NEODYME_X``; the README's table is
    generated from the ``doc`` metadata below (``neodyme settings``)."""

    environment: Environment = _setting(
        Environment.DEVELOPMENT, Environment, "development, testing or production"
    )
    database_url: str = _setting(
        "sqlite+aiosqlite:///./neodyme.db",
        _database_url,
        doc="SQLAlchemy URL: sqlite+aiosqlite:///file.db, postgresql+psycopg://..., or memory://",
    )
    secret_key: str = _setting(
        "",
        doc="JWT signing key; 32+ bytes in production; development generates one into"
        " `.neodyme-dev-secret`",
    )
    access_token_ttl: int = _setting(900, _positive_int, "access token lifetime, seconds")
    refresh_token_ttl: int = _setting(
        2_592_000, _positive_int, "refresh token family lifetime, seconds (absolute)"
    )
    jwt_issuer: str = _setting("neodyme", doc="`iss` claim")
    jwt_audience: str = _setting("neodyme-api", doc="`aud` claim")
    smtp_host: str | None = _setting(None, _optional, "SMTP server; unset: e-mails are logged")
    smtp_port: int = _setting(587, _port, "SMTP port")
    smtp_username: str | None = _setting(None, _optional, "SMTP login (optional)")
    smtp_password: str | None = _setting(None, _optional, "SMTP password (optional)")
    smtp_tls: SmtpTls = _setting(SmtpTls.STARTTLS, SmtpTls, "none, starttls or tls")
    smtp_timeout: float = _setting(10.0, float, "seconds before an SMTP attempt is given up")
    email_from: str = _setting("neodyme <no-reply@neodyme.local>", doc="From address")
    outbox_poll_seconds: float = _setting(
        5.0, float, "how often the e-mail dispatcher looks for due retries"
    )
    outbox_retry_seconds: float = _setting(
        2.0,
        _positive_float,
        "seconds before the first retry of an e-mail that could not be sent; doubling",
    )
    outbox_max_retry_seconds: float = _setting(
        600.0, _positive_float, "longest wait between two attempts to send an e-mail, seconds"
    )
    outbox_lease_seconds: float = _setting(
        60.0,
        _positive_float,
        "how long a dispatcher owns the e-mails it claimed; it sends during the first half"
        " only, so that no other process sends them too (keep SMTP_TIMEOUT below the half)",
    )
    public_url: str = _setting(
        "http://127.0.0.1:8000",
        doc="base URL of the client app; e-mailed links are PUBLIC_URL/reset-password?token=..."
        " and PUBLIC_URL/verify-email?token=...",
    )
    reset_token_ttl: int = _setting(3600, _positive_int, "password reset link lifetime, seconds")
    verification_token_ttl: int = _setting(
        86400, _positive_int, "e-mail verification link lifetime, seconds"
    )
    login_max_failures: int = _setting(
        5, _positive_int, "failed logins for one account (known or not) that start a lockout"
    )
    login_window_seconds: int = _setting(
        900, _positive_int, "seconds in which failed logins are counted, per account and address"
    )
    login_lockout_seconds: int = _setting(
        900, _positive_int, "first lockout, seconds; each consecutive lockout doubles it"
    )
    login_max_lockout_seconds: int = _setting(3600, _positive_int, "longest lockout, seconds")
    address_max_failures: int = _setting(
        100,
        _positive_int,
        "failed logins from one client address (IPv6: its /64) that lock the address out;"
        " also the limit of its forgot-password requests",
    )
    trusted_proxies: str = _setting(
        "",
        _networks,
        "comma-separated IPs or CIDRs of reverse proxies whose `X-Forwarded-For` names the"
        " client; unset: the client is the socket peer",
    )
    password_policy: PolicyProfile = _setting(
        PolicyProfile.BOOK,
        PolicyProfile,
        "book (8+ characters, lower, upper, digit, special) or nist (15+ characters and the"
        " common-password blocklist)",
    )
    password_blocklist: bool = _setting(
        False, _boolean, "refuse common passwords under the book policy too (always on in nist)"
    )
    log_level: str = _setting("INFO", str.upper, "DEBUG, INFO, WARNING, ERROR")
    argon2_memory_kib: int = _setting(19456, _positive_int, "argon2id memory cost, KiB")
    argon2_time_cost: int = _setting(2, _positive_int, "argon2id passes")
    argon2_parallelism: int = _setting(1, _positive_int, "argon2id lanes")
    hash_concurrency: int = _setting(0, int, "concurrent hashes per process; 0 = one per CPU core")
    hash_queue_limit: int = _setting(
        128, int, "hashes that may wait for a thread; beyond it: 503 with Retry-After at once"
    )
    request_timeout: float = _setting(
        10.0, float, "seconds before a request is abandoned with 503 (never a hanging client)"
    )
    max_body_bytes: int = _setting(65536, _positive_int, "largest accepted request body")
    db_pool_size: int = _setting(
        10, _positive_int, "database connections per process, at most (requests wait for one)"
    )
    db_timeout: float = _setting(
        3.0,
        float,
        "seconds to get a working database connection (pool, connect, liveness check);"
        " past it: 503",
    )
    docs: bool = _setting(True, _boolean, "serve the OpenAPI page under /schema")

    @property
    def access_ttl(self) -> timedelta:
        return timedelta(seconds=self.access_token_ttl)

    @property
    def refresh_ttl(self) -> timedelta:
        return timedelta(seconds=self.refresh_token_ttl)

    @property
    def reset_ttl(self) -> timedelta:
        return timedelta(seconds=self.reset_token_ttl)

    @property
    def verification_ttl(self) -> timedelta:
        return timedelta(seconds=self.verification_token_ttl)

    @property
    def outbox_retry(self) -> timedelta:
        return timedelta(seconds=self.outbox_retry_seconds)

    @property
    def outbox_max_retry(self) -> timedelta:
        return timedelta(seconds=self.outbox_max_retry_seconds)

    @property
    def outbox_lease(self) -> timedelta:
        return timedelta(seconds=self.outbox_lease_seconds)

    @property
    def login_limits(self) -> LoginLimits:
        def limits(max_failures: int) -> ThrottleLimits:
            return ThrottleLimits(
                max_failures=max_failures,
                window=timedelta(seconds=self.login_window_seconds),
                first_lockout=timedelta(seconds=self.login_lockout_seconds),
                max_lockout=timedelta(seconds=self.login_max_lockout_seconds),
            )

        return LoginLimits(
            account=limits(self.login_max_failures), address=limits(self.address_max_failures)
        )

    @property
    def trusted_proxy_networks(self) -> tuple[IpNetwork, ...]:
        entries = self.trusted_proxies.split(",") if self.trusted_proxies else []
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)

    @property
    def uses_memory_storage(self) -> bool:
        return self.database_url == "memory://"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = PREFIX + spec.name.upper()
            raw = env.get(name)
            if raw is None:
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw.strip())
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is not valid: {_reason(exc)}") from None
        return cls(**values).validated()

    def validated(self) -> Settings:
        """Check rules across values; in development, supply the generated secret."""
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(f"{PREFIX}LOG_LEVEL={self.log_level!r} is not a log level")
        if self.login_max_lockout_seconds < self.login_lockout_seconds:
            raise SettingsError(
                f"{PREFIX}LOGIN_MAX_LOCKOUT_SECONDS={self.login_max_lockout_seconds} is shorter"
                f" than {PREFIX}LOGIN_LOCKOUT_SECONDS={self.login_lockout_seconds}"
            )
        try:
            _networks(self.trusted_proxies)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}TRUSTED_PROXIES is not valid: {exc}") from None
        if not self.secret_key:
            if self.environment is Environment.DEVELOPMENT:
                return replace(self, secret_key=load_development_secret())
            raise SettingsError(f"{PREFIX}SECRET_KEY must be set in {self.environment}")
        if (
            self.environment is Environment.PRODUCTION
            and len(self.secret_key.encode()) < MIN_PRODUCTION_SECRET_BYTES
        ):
            raise SettingsError(
                f"{PREFIX}SECRET_KEY must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes"
                " in production (generate one: python -c 'import secrets;"
                " print(secrets.token_urlsafe(48))')"
            )
        return self


def _reason(exc: ValueError) -> str:
    message = str(exc)
    if message.startswith("invalid literal") or "could not convert" in message:
        return "expected a number"
    return message


def load_development_secret(path: Path = DEV_SECRET_FILE) -> str:
    """The development secret: generated once, kept in an untracked file so that tokens
    survive restarts of ``make run``. Never used in production."""
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret


def settings_table() -> str:
    """The configuration table of the README, so documentation cannot drift from code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for spec in fields(Settings):
        default = "" if spec.default in (None, "") else f"`{spec.default}`"
        rows.append(f"| `{PREFIX}{spec.name.upper()}` | {default} | {spec.metadata['doc']} |")
    return "\n".join(rows)
