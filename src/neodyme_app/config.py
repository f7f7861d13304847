"""Settings from ``NEODYME_*`` environment variables, validated once at start.

Every value is checked before the service starts: a bad value stops it with a one-line
message naming the variable (the CLI exits with code 2), rather than failing on the first
request that happens to need it. So is every ``NEODYME_*`` variable that names no setting
(``NEODYME_SMPT_HOST``: a typo silently ignored is a setting silently at its default),
except those of neodyme's own test and benchmark tooling, under ``RESERVED_PREFIXES``.
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import ArgumentError

from neodyme_adapters.argon2_hasher import (
    OWASP_MINIMUM_MEMORY_KIB,
    Argon2Parameters,
    owasp_minimum_memory_kib,
    parameter_problem,
)
from neodyme_adapters.oidc import ProviderSettings
from neodyme_adapters.smtp_notifier import tls_context
from neodyme_adapters.sqlalchemy.engine import to_async_url
from neodyme_domain.passwords import PolicyProfile
from neodyme_domain.throttling import LoginLimits, ThrottleLimits
from neodyme_domain.tokens.signing_keys import SigningAlgorithm
from neodyme_domain.use_cases.deliver_outbox import MAX_ATTEMPTS

PREFIX = "NEODYME_"
RESERVED_PREFIXES = ("NEODYME_TEST_", "NEODYME_BENCH_", "NEODYME_FUZZ_")
"""Variables of the test suite, the benchmarks and the fuzzer (``NEODYME_TEST_DATABASE_URL``,
``NEODYME_BENCH_DATABASE_URL``, ``NEODYME_FUZZ_SEED``...): not settings, and not refused
as unknown ones. No setting's name starts with ``test_``, ``bench_`` or ``fuzz_``."""
MIN_PRODUCTION_SECRET_BYTES = 32
FERNET_KEY_BYTES = 32
SECRET_SETTINGS = frozenset({"secret_key", "smtp_password", "encryption_keys", "oidc_providers"})
"""Settings whose values an error message never quotes."""
MAX_JWT_LEEWAY = 300
"""Seconds. Clocks further apart than five minutes are broken, not skewed (RFC 7519's
"a few minutes"); a larger leeway would only lengthen the life of expired tokens."""
DEV_SECRET_FILE = Path(".neodyme-dev-secret")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    PRODUCTION = "production"


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class JwtAlgorithm(StrEnum):
    """How access tokens are signed: ``HS256`` with the secret key (one service), or by an
    asymmetric key that other services verify with the JWKS (``EdDSA``: Ed25519, the
    smallest keys and signatures, deterministic signing; ``ES256``: P-256, the widest
    support, and a little faster to verify with PyJWT here: ``make bench-micro``)."""

    HS256 = "HS256"
    EDDSA = "EdDSA"
    ES256 = "ES256"


class EmailBackend(StrEnum):
    """How e-mails leave: ``auto`` is smtp when ``NEODYME_SMTP_HOST`` is set, else log
    (refused in production, where a forgotten SMTP host would drop every e-mail quietly)."""

    AUTO = "auto"
    SMTP = "smtp"
    LOG = "log"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class SettingsError(ValueError):
    """A setting that cannot be used; ``str()`` is the one-line message for the operator."""


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not 0 < value < math.inf:  # also refuses nan
        raise ValueError("must be a positive number")
    return value


def _jwt_leeway(raw: str) -> int:
    value = _non_negative_int(raw)
    if value > MAX_JWT_LEEWAY:
        raise ValueError(f"must be at most {MAX_JWT_LEEWAY} seconds")
    return value


_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def introspection_client_id(raw: str) -> str:
    if not _CLIENT_ID.fullmatch(raw):
        raise ValueError("a client id is 1-64 letters, digits, '.', '_' or '-'")
    return raw


def _introspection_clients(raw: str) -> str:
    """Comma-separated ``client_id:sha256-hex-of-its-secret`` (``neodyme introspection
    new-client``), normalised."""
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    seen: set[str] = set()
    for entry in entries:
        client_id, _, digest = entry.partition(":")
        if not _CLIENT_ID.fullmatch(client_id) or not _SHA256_HEX.fullmatch(digest):
            raise ValueError(
                "expected comma-separated client_id:sha256-hex entries"
                " (neodyme introspection new-client NAME prints one)"
            )
        if client_id in seen:
            raise ValueError(f"client {client_id} is named twice")
        seen.add(client_id)
    return ",".join(entries)


_PROVIDER_FIELDS = ("name", "issuer", "client_id", "client_secret")
_PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _oidc_providers(raw: str) -> str:
    """A JSON list of ``{"name", "issuer", "client_id", "client_secret"[, "title"]}``;
    checked whole at start (never quoted back: it holds secrets)."""
    if not raw.strip():
        return ""
    try:
        entries = json.loads(raw)
    except ValueError:
        raise ValueError("not JSON: expected a list of provider objects") from None
    if not isinstance(entries, list):
        raise ValueError("expected a JSON list of provider objects")
    names: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(field), str) and entry[field] for field in _PROVIDER_FIELDS
        ):
            raise ValueError("each provider needs name, issuer, client_id and client_secret")
        if not _PROVIDER_NAME.fullmatch(entry["name"]) or entry["name"] in names:
            raise ValueError(
                "provider names are unique, 1-64 lowercase letters, digits, '_' or '-'"
            )
        if urlsplit(entry["issuer"]).scheme not in {"https", "http"}:
            raise ValueError(f"provider {entry['name']}: the issuer is an http(s) URL")
        names.add(entry["name"])
    return raw


def _redirect_uris(raw: str) -> str:
    uris = [uri.strip() for uri in raw.split(",") if uri.strip()]
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in {"https", "http"} or not parts.netloc or parts.fragment:
            raise ValueError("comma-separated absolute http(s) URLs without a fragment")
    return ",".join(uris)


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port (1-65535)")
    return value


def _port_or_none(raw: str) -> int | None:
    """A TCP port; empty or 0: none."""
    return None if raw in {"", "0"} else _port(raw)


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


DERIVED_KEY = "derived"
"""In ``NEODYME_ENCRYPTION_KEYS``: the key derived from ``NEODYME_SECRET_KEY``."""


def _encryption_keys(raw: str) -> str:
    """Comma-separated Fernet keys (32 bytes, base64url) or ``derived``, normalised."""
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    if not entries:
        raise ValueError("expected at least one key")
    for entry in entries:
        if entry == DERIVED_KEY:
            continue
        try:
            key = base64.urlsafe_b64decode(entry.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            key = b""
        if len(key) != FERNET_KEY_BYTES:
            # The entry itself is a secret: it is never quoted back.
            raise ValueError("each key must be `derived` or a Fernet key (neodyme mfa new-key)")
    return ",".join(entries)


def _origins(raw: str) -> str:
    """Comma-separated web origins (``scheme://host[:port]``, nothing after), normalised."""
    entries = [entry.strip().rstrip("/") for entry in raw.split(",") if entry.strip()]
    for entry in entries:
        if origin_of(entry) != entry:
            raise ValueError(f"expected comma-separated origins like https://app.example: {entry}")
    return ",".join(entries)


def origin_of(url: str) -> str:
    """The origin of ``url`` (``scheme://host[:port]``); "" if it has none."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _optional(raw: str) -> str | None:
    return raw or None


def _ca_file(raw: str) -> str | None:
    """A PEM bundle that loads, checked at start rather than at the first e-mail."""
    if not raw:
        return None
    try:
        tls_context(raw)
    except OSError as exc:  # missing, unreadable, or not PEM certificates (ssl.SSLError)
        raise ValueError(f"cannot load it as PEM CA certificates ({exc})") from None
    return raw


def _setting(default: Any, parse: Callable[[str], Any] = str, doc: str = "") -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True, slots=True)
class Settings:
    """All configuration. Field ``x`` is read from ``NEODYME_X``; the table of
    docs/configuration.md is generated from the ``doc`` metadata below (``neodyme settings``)."""

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
    jwt_leeway: int = _setting(
        10,
        _jwt_leeway,
        "seconds of clock difference allowed when checking a token's `iat`, `nbf` and `exp`"
        f" (0-{MAX_JWT_LEEWAY}), for servers whose clocks differ a little",
    )
    jwt_algorithm: JwtAlgorithm = _setting(
        JwtAlgorithm.HS256,
        JwtAlgorithm,
        "HS256, EdDSA or ES256: how access tokens are signed; EdDSA/ES256 publish the keys at"
        ' /.well-known/jwks.json for other services (docs/security.md, "Signing keys")',
    )
    jwt_key_publish_seconds: int = _setting(
        60,
        _positive_int,
        "EdDSA/ES256: a rotated key is published this long before it signs; each server"
        " reloads the keys three times within it",
    )
    introspection_clients: str = _setting(
        "",
        _introspection_clients,
        "resource servers allowed to call POST /api/v1/auth/introspect, as comma-separated"
        " `client_id:sha256-of-secret` (`neodyme introspection new-client NAME`)",
    )
    oidc_providers: str = _setting(
        "",
        _oidc_providers,
        "OpenID Connect providers to sign in with, a JSON list of objects: name (in URLs),"
        " title (on buttons), issuer (its discovery document is read from there),"
        " client_id, client_secret; register PUBLIC_URL/login/oidc/NAME/callback with each",
    )
    oidc_redirect_uris: str = _setting(
        "",
        _redirect_uris,
        "comma-separated redirect URIs that API clients may name at"
        " POST /api/v1/auth/oidc/NAME/authorize (each also registered with the provider)",
    )
    email_backend: EmailBackend = _setting(
        EmailBackend.AUTO,
        EmailBackend,
        "smtp, log or auto (smtp if SMTP_HOST is set, else log); production needs SMTP_HOST"
        " unless this is log, and its log backend never logs a link or its token",
    )
    smtp_host: str | None = _setting(
        None, _optional, "SMTP server; unset: e-mails are logged (EMAIL_BACKEND)"
    )
    smtp_port: int = _setting(587, _port, "SMTP port")
    smtp_username: str | None = _setting(None, _optional, "SMTP login (optional)")
    smtp_password: str | None = _setting(None, _optional, "SMTP password (optional)")
    smtp_tls: SmtpTls = _setting(SmtpTls.STARTTLS, SmtpTls, "none, starttls or tls")
    smtp_ca_file: str | None = _setting(
        None,
        _ca_file,
        "PEM file of CA certificates trusted for the SMTP server's certificate in addition to"
        " the system's (a private CA, a self-signed relay); verification is always on",
    )
    smtp_timeout: float = _setting(
        10.0, _positive_float, "seconds before an SMTP attempt is given up"
    )
    email_from: str = _setting("neodyme <no-reply@neodyme.local>", doc="From address")
    outbox_poll_seconds: float = _setting(
        5.0, _positive_float, "how often the e-mail dispatcher looks for due retries"
    )
    outbox_retry_seconds: float = _setting(
        2.0,
        _positive_float,
        "seconds before the first retry of an e-mail that could not be sent; doubling",
    )
    outbox_max_retry_seconds: float = _setting(
        600.0, _positive_float, "longest wait between two attempts to send an e-mail, seconds"
    )
    outbox_max_attempts: int = _setting(
        MAX_ATTEMPTS,
        _positive_int,
        "attempts to send an e-mail before it is given up (dead, logged at ERROR, kept for"
        " `neodyme outbox retry --dead`); the default spans about 3 days at the default"
        " retry delays: 2+4+...+512 s (17 min) then 430 waits of 600 s",
    )
    outbox_lease_seconds: float = _setting(
        60.0,
        _positive_float,
        "how long a dispatcher owns the e-mails it claimed; it sends during the first half"
        " only, so that no other process sends them too (keep SMTP_TIMEOUT below the half)",
    )
    public_url: str = _setting(
        "http://localhost:8000",
        doc="base URL of the pages (or of another front end); e-mailed links are"
        " PUBLIC_URL/reset-password?token=... and PUBLIC_URL/verify-email?token=...; its host"
        " is the passkeys' relying-party id (a domain name: browsers refuse IP addresses)",
    )
    webauthn_origins: str = _setting(
        "",
        _origins,
        "more origins (comma-separated https://host[:port]) whose pages may use passkeys,"
        " beside PUBLIC_URL's; their hosts must be PUBLIC_URL's host or a subdomain of it",
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
    encryption_keys: str = _setting(
        DERIVED_KEY,
        _encryption_keys,
        "keys that encrypt secrets at rest (TOTP, signing keys), comma-separated, newest first:"
        " the first seals, all open; `derived` is one derived from NEODYME_SECRET_KEY. To"
        " rotate, put a new key (`neodyme mfa new-key`) first, run `neodyme mfa reseal`,"
        " then drop the old one",
    )
    mfa_issuer: str = _setting(
        "neodyme", doc="the name authenticator apps show beside the account (otpauth issuer)"
    )
    new_device_notice_days: int = _setting(
        30,
        _non_negative_int,
        "a sign-in from a user agent and address the account has not used in this many days"
        " is told to the user by e-mail; 0 turns the notice off",
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
    log_format: LogFormat = _setting(
        LogFormat.TEXT, LogFormat, "text (a line for people) or json (one object a line)"
    )
    access_log: bool | None = _setting(
        None, _boolean, "one `neodyme.access` line per request; unset: on, except in development"
    )
    argon2_memory_kib: int = _setting(19456, _positive_int, "argon2id memory cost, KiB")
    argon2_time_cost: int = _setting(2, _positive_int, "argon2id passes")
    argon2_parallelism: int = _setting(1, _positive_int, "argon2id lanes")
    hash_concurrency: int = _setting(
        0, _non_negative_int, "concurrent hashes per process; 0 = one per CPU core"
    )
    hash_queue_limit: int = _setting(
        128,
        _non_negative_int,
        "hashes that may wait for a thread; beyond it: 503 with Retry-After at once",
    )
    request_timeout: float = _setting(
        10.0,
        _positive_float,
        "seconds before a request is abandoned with 503 (never a hanging client)",
    )
    max_body_bytes: int = _setting(65536, _positive_int, "largest accepted request body")
    db_pool_size: int = _setting(
        10, _positive_int, "database connections per process, at most (requests wait for one)"
    )
    db_timeout: float = _setting(
        3.0,
        _positive_float,
        "seconds to get a working database connection (pool, connect, liveness check);"
        " past it: 503",
    )
    docs: bool = _setting(True, _boolean, "serve the OpenAPI page under /schema")
    pages: bool = _setting(
        True,
        _boolean,
        "serve the HTML pages (sign-in, the e-mailed links, /account) beside the API;"
        " false: the API only",
    )
    metrics: bool = _setting(
        True, _boolean, "Prometheus metrics: GET /metrics, or on METRICS_PORT (docs/operations.md)"
    )
    metrics_port: int | None = _setting(
        None,
        _port_or_none,
        "serve the metrics on this port (same host as the API; `neodyme serve` only) and not"
        " at /metrics on the API port; unset or 0: on the API port",
    )

    @property
    def public_host(self) -> str:
        """PUBLIC_URL's host name: the passkeys' relying-party id."""
        return urlsplit(self.public_url).hostname or "localhost"

    @property
    def access_ttl(self) -> timedelta:
        return timedelta(seconds=self.access_token_ttl)

    @property
    def refresh_ttl(self) -> timedelta:
        return timedelta(seconds=self.refresh_token_ttl)

    @property
    def signing_algorithm(self) -> SigningAlgorithm | None:
        """The asymmetric algorithm of access tokens; None for HS256."""
        if self.jwt_algorithm is JwtAlgorithm.HS256:
            return None
        return SigningAlgorithm(self.jwt_algorithm.value)

    @property
    def key_lifetime(self) -> timedelta:
        """How long a superseded signing key verifies: a token it signed last lives this
        long (the access-token lifetime, plus the leeway its expiry is given)."""
        return self.access_ttl + timedelta(seconds=self.jwt_leeway)

    @property
    def key_publish_ahead(self) -> timedelta:
        return timedelta(seconds=self.jwt_key_publish_seconds)

    @property
    def key_reload_seconds(self) -> float:
        """Each server reloads its keys three times within the publishing delay, and the
        JWKS may be cached as long: a new key reaches every process and cache before it
        signs."""
        return self.jwt_key_publish_seconds / 3

    @property
    def identity_providers(self) -> list[ProviderSettings]:
        if not self.oidc_providers:
            return []
        return [
            ProviderSettings(
                name=entry["name"],
                title=entry.get("title") or entry["name"].capitalize(),
                issuer=entry["issuer"],
                client_id=entry["client_id"],
                client_secret=entry["client_secret"],
            )
            for entry in json.loads(self.oidc_providers)
        ]

    @property
    def allowed_redirect_uris(self) -> frozenset[str]:
        return frozenset(uri for uri in self.oidc_redirect_uris.split(",") if uri)

    @property
    def introspection_digests(self) -> dict[str, str]:
        """Client id to the SHA-256 hex digest of its secret."""
        pairs = (entry.partition(":") for entry in self.introspection_clients.split(",") if entry)
        return {client_id: digest for client_id, _, digest in pairs}

    @property
    def new_device_window(self) -> timedelta | None:
        days = self.new_device_notice_days
        return timedelta(days=days) if days else None

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
    def access_log_enabled(self) -> bool:
        """Off in development by default: there the console is for the developer's own
        lines, and every reload of a page would add a few. Its lines are INFO records, so
        a log level above INFO silences it too (as uvicorn's does)."""
        wanted = self.access_log
        if wanted is None:
            wanted = self.environment is not Environment.DEVELOPMENT
        return wanted and self.log_level in {"DEBUG", "INFO"}

    @property
    def uses_memory_storage(self) -> bool:
        return self.database_url == "memory://"

    @property
    def email_delivery(self) -> EmailBackend:
        """smtp or log: what ``auto`` comes to."""
        if self.email_backend is EmailBackend.AUTO:
            return EmailBackend.SMTP if self.smtp_host else EmailBackend.LOG
        return self.email_backend

    @property
    def argon2_parameters(self) -> Argon2Parameters:
        return Argon2Parameters(
            memory_kib=self.argon2_memory_kib,
            time_cost=self.argon2_time_cost,
            parallelism=self.argon2_parallelism,
        )

    @property
    def jwt_leeway_delta(self) -> timedelta:
        return timedelta(seconds=self.jwt_leeway)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        _refuse_unknown_variables(env)
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = PREFIX + spec.name.upper()
            raw = env.get(name)
            if raw is None:
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw.strip())
            except ValueError as exc:
                # A secret's value is never echoed: the message goes to logs and terminals.
                shown = name if spec.name in SECRET_SETTINGS else f"{name}={raw!r}"
                raise SettingsError(f"{shown} is not valid: {_reason(exc)}") from None
        return cls(**values).validated()

    def validated(self) -> Settings:
        """Check rules across values; in development, supply the generated secret."""
        _check_numbers(self)  # first: the rules across values assume sensible numbers
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
        for check in (_check_email_backend, _check_argon2, _check_jwt_leeway):
            check(self)
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


def _refuse_unknown_variables(env: Mapping[str, str]) -> None:
    """A ``NEODYME_*`` variable that names no setting is refused, with the closest name: as
    Kratos refuses an unknown key in its configuration, rather than run on a default the
    operator believes changed. The tooling's own prefixes (``RESERVED_PREFIXES``) pass."""
    known = [spec.name.upper() for spec in fields(Settings)]
    for name in sorted(env):
        if not name.startswith(PREFIX) or name.startswith(RESERVED_PREFIXES):
            continue
        suffix = name.removeprefix(PREFIX)
        if suffix in known:
            continue
        # The part after the prefix only: every name shares "NEODYME_", which would make
        # any two look alike.
        close = difflib.get_close_matches(suffix.upper(), known, n=1)
        hint = f"did you mean {PREFIX}{close[0]}?" if close else "`neodyme settings` lists them"
        raise SettingsError(f"{name} is not a setting; {hint}")


_NUMBER_TYPES = frozenset({"int", "float", "int | None", "float | None"})


def _check_numbers(settings: Settings) -> None:
    """Values given in Python (``Settings(...)``, the in-process API) never met the parsers
    that check the environment's: run each number through its parser again, so that a
    nonsensical number (negative concurrency, zero pool, NaN timeout) is refused however it
    came, in every environment."""
    for spec in fields(settings):
        value = getattr(settings, spec.name)
        if spec.type not in _NUMBER_TYPES or value is None:
            continue
        try:
            spec.metadata["parse"](str(value))
        except ValueError as exc:
            name = PREFIX + spec.name.upper()
            raise SettingsError(f"{name}={value!r} is not valid: {_reason(exc)}") from None


def _check_email_backend(settings: Settings) -> None:
    if settings.email_backend is EmailBackend.SMTP and not settings.smtp_host:
        raise SettingsError(f"{PREFIX}EMAIL_BACKEND=smtp needs {PREFIX}SMTP_HOST")
    if (
        settings.environment is Environment.PRODUCTION
        and settings.email_backend is EmailBackend.AUTO
        and not settings.smtp_host
    ):
        raise SettingsError(
            f"{PREFIX}SMTP_HOST must be set in production (or set {PREFIX}EMAIL_BACKEND=log"
            " to log that e-mails were sent, without sending them)"
        )


def _check_argon2(settings: Settings) -> None:
    """Parameters argon2 cannot run with are refused everywhere; below OWASP's minimum, in
    production (a cheap test setting must never reach it)."""
    parameters = settings.argon2_parameters
    names = f"{PREFIX}ARGON2_MEMORY_KIB={parameters.memory_kib}"
    if problem := parameter_problem(parameters):
        raise SettingsError(
            f"{names}, {PREFIX}ARGON2_TIME_COST={parameters.time_cost},"
            f" {PREFIX}ARGON2_PARALLELISM={parameters.parallelism}: {problem}"
        )
    minimum = owasp_minimum_memory_kib(parameters.time_cost)
    if settings.environment is Environment.PRODUCTION and parameters.memory_kib < minimum:
        pairs = ", ".join(f"m={m} t={t}" for t, m in OWASP_MINIMUM_MEMORY_KIB.items())
        raise SettingsError(
            f"{names} with {PREFIX}ARGON2_TIME_COST={parameters.time_cost} is below OWASP's"
            f" argon2id minimum, refused in production: at that time cost, memory must be at"
            f" least {minimum} KiB (OWASP: {pairs}+)"
        )


def _check_jwt_leeway(settings: Settings) -> None:
    if settings.jwt_leeway >= settings.access_token_ttl:
        raise SettingsError(
            f"{PREFIX}JWT_LEEWAY={settings.jwt_leeway} must be shorter than"
            f" {PREFIX}ACCESS_TOKEN_TTL={settings.access_token_ttl}"
        )


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
    """The table of docs/configuration.md, so documentation cannot drift from code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for spec in fields(Settings):
        default = "" if spec.default in (None, "") else f"`{spec.default}`"
        rows.append(f"| `{PREFIX}{spec.name.upper()}` | {default} | {spec.metadata['doc']} |")
    return "\n".join(rows)
