"""API fuzzing: schemathesis against the OpenAPI document the real server serves, with
every check it has, over every operation.

Each operation gets requests that fit its document and requests that do not, from
schemathesis's coverage phase (boundaries, missing and extra fields, wrong types and
content types, undeclared methods) and its fuzzing phase (``NEODYME_FUZZ_EXAMPLES`` per
operation and mode, 50 by default: docs/testing.md says why). Every response must be
documented (status, content type, headers, body), never a 5xx; invalid requests must be
refused; a route that names the bearer scheme must refuse a request without a valid token.

A valid request must succeed: 2xx, nothing else (not schemathesis's default, which takes
401, 403, 404, 409, 429 and even 5xx as "accepted"). The fuzzer makes the valid requests
it sends ones that can succeed, where the document can only give a type:

- its identity is real and current: a bearer token is re-issued before it expires, and an
  operation that ends the caller's session (change-password, DELETE /users/me) is sent
  by an account made for that one request, with that account's password; a refresh or a
  logout carries a refresh token issued for it; a login, the fuzzer's credentials;
- a second factor is real: setting it up, confirming it, completing a login with it,
  regenerating its recovery codes or turning it off (by its owner or the superuser) is
  done on an account made for that request, given the app's current code or one of its
  recovery codes; a login's second step gets exactly one of the two (the document can
  only say that both are optional);
- a passkey is real: adding one answers the options the server gave with a software
  authenticator (tests/support/authenticator.py) on a page of the server's public URL;
  signing in with one (alone, or as a login's second step) uses a passkey added for that
  request;
- what it names exists: a user id is the fuzzer's administered account, a cursor one the
  server issued, a session id that of a sign-in made for the request by the account whose
  session it must be, a passkey id one added for the request by the caller;
- what it creates is new and allowed: a registration's (or e-mail change's) address is
  made unique (the generated one with a unique first atom), and a new password is made
  to pass the server's password policy (the document already gives its length, ``minLength``);
- a resource server introspects with the credentials the fuzz server was given
  (``NEODYME_INTROSPECTION_CLIENTS``), a token of the fuzzer's user;
- a sign-in with another provider is real (the fuzz server's provider is a real OpenID
  provider, tests/support/oidc_provider.py): an authorization names that provider and the
  redirect URI the server allows; a callback carries the code and state the provider
  sent back for a sign-in started for that request; a link, the link token of a sign-in
  whose address an account made for that request holds, with its password; unlinking, an
  identity that account linked (it keeps its password, so it is not its last way in);
- each request comes from an address of its own: the fuzz server trusts the fuzzer as a
  reverse proxy and each request names a fresh client in ``X-Forwarded-For``, so the
  fuzzer's thousands of requests lock out no address, however many logins fail.

What stays refused, because the server's state decides it and no request can be made to
pass by the fuzzer alone: a one-time token (reset-password, verify, confirm-email) is
valid only if the server e-mailed it (400 INVALID_TOKEN).

The fuzz server is its own (a scratch PostgreSQL database and mail server, like the fault
tests'), so that its settings and rows are nobody else's. The bounded run here is part of
``make test``; ``make fuzz`` runs this module with many more examples.
``NEODYME_FUZZ_SEED`` replays a run: the seed is printed with a failure.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import random
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pyotp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import AuthContext, Case
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from neodyme_adapters.common_passwords import common_passwords
from neodyme_domain.errors import DomainError
from neodyme_domain.model import MAX_EMAIL_LENGTH, MAX_LOCAL_PART_LENGTH
from neodyme_domain.passwords import MAX_PASSWORD_LENGTH, PolicyProfile, build_policy
from tests.e2e.api import PASSWORD, Cli, bearer
from tests.e2e.faults import Rig
from tests.e2e.secret_log import SecretLog
from tests.support.authenticator import SoftAuthenticator
from tests.support.oidc_provider import OidcProvider
from tests.support.server import PUBLIC_URL, ServerProcess

EXAMPLES = int(os.environ.get("NEODYME_FUZZ_EXAMPLES", "50"))
SEED = int(os.environ.get("NEODYME_FUZZ_SEED") or random.randrange(2**32))
API = "/api/v1"
USER = f"{API}/users/{{user_id}}"
USER_SESSIONS = f"{USER}/sessions"
USER_MFA = f"{USER}/mfa"
ADMIN_PATHS = (f"{API}/users", USER, USER_SESSIONS, f"{USER_SESSIONS}/{{session_id}}", USER_MFA)
MFA = f"{API}/auth/mfa"
PASSKEYS = f"{API}/auth/passkeys"
NEEDS_TWO_FACTOR = (f"{MFA}/recovery-codes", f"{MFA}/totp/disable")
"""Operations that only succeed for an account with two-factor sign-in on."""
"""Fuzzed as a superuser: anyone else gets 403 there, whatever the request."""
LISTINGS = (f"{API}/users", f"{API}/users/me/events")
ENDS_THE_SESSION = (f"{API}/auth/change-password", f"{API}/users/me")
"""Operations whose success revokes the caller's tokens (POST and DELETE respectively)."""
REFRESH_TOKEN_BODIES = (f"{API}/auth/refresh", f"{API}/auth/logout")
INTROSPECT = f"{API}/auth/introspect"
OIDC = f"{API}/auth/oidc"
APP_CALLBACK = "http://127.0.0.1:9/app/callback"
"""The redirect URI of the fuzz server's API clients (nothing listens there)."""
INTROSPECTION_SECRET = secrets.token_urlsafe(24)
INTROSPECTION_CLIENTS = "fuzz:" + hashlib.sha256(INTROSPECTION_SECRET.encode()).hexdigest()
NEW_PASSWORDS = {f"{API}/auth/register": "password", f"{API}/auth/change-password": "new_password"}
"""Where a valid request sets a password (reset-password too, but its token is refused)."""

VALID = ["2xx"]
"""What a valid request must get: success."""
VALID_BUT_REFUSED = {
    # A one-time token is valid only if the server e-mailed it: 400 INVALID_TOKEN.
    f"{API}/auth/reset-password": ["400"],
    f"{API}/auth/verify": ["400"],
    f"{API}/auth/confirm-email": ["400"],
}
"""Operations where a request the document calls valid is still refused: what decides is
server state that the fuzzer cannot produce for every request."""
TOKEN_MARGIN = 60
"""Seconds before its expiry that a bearer token is replaced by a fresh one."""


def fuzzing_config() -> SchemathesisConfig:
    """schemathesis's defaults (every check on, for every operation, every phase that
    applies to a single operation), except that valid data must get a 2xx (or the
    answers of ``VALID_BUT_REFUSED``)."""
    operations = [
        {
            "include-path": path,
            "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
        }
        for path, statuses in VALID_BUT_REFUSED.items()
    ]
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "checks": {"positive_data_acceptance": {"expected-statuses": VALID}},
            "operations": operations,
        }
    )


@dataclass
class Identity:
    """An account the fuzzer logs in as, with a bearer token it keeps current."""

    client: httpx.Client
    email: str
    secret_log: SecretLog
    token: str = ""
    expires_at: float = 0.0

    def access_token(self) -> str:
        if self.expires_at - time.time() < TOKEN_MARGIN:
            self.token = self.login()["access_token"]
            self.secret_log.add("fuzzer access token", self.token)
            claims = jwt.decode(self.token, options={"verify_signature": False})
            self.expires_at = float(claims["exp"])
        return self.token

    def login(self) -> dict[str, Any]:
        response = self.client.post(
            f"{API}/auth/login", json={"email": self.email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        session: dict[str, Any] = response.json()
        self.secret_log.add("fuzzer refresh token", session["refresh_token"])
        return session


@dataclass
class Fuzzer:
    client: httpx.Client
    """For the fuzzer's own requests (log in, make an account), outside the fuzzing."""
    session: requests.Session
    """What schemathesis sends the fuzzing requests with."""
    user: Identity
    admin: Identity
    cursors: dict[str, str]
    """A cursor the server issued, for each listing (path -> cursor)."""
    target_id: str
    """An account of the fuzzer's own that the superuser may read, deactivate, reactivate."""
    target: Identity
    """The same account, to sign in as (a session for the superuser to end)."""
    profile: PolicyProfile
    secret_log: SecretLog
    provider: OidcProvider
    seen: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    """(operation, mode, status) of every request sent: printed at the end."""

    def count(self, ctx: Any, response: Any, case: Case) -> None:
        """A check that only counts: run with the others on every response."""
        mode = "valid" if is_valid(case) else "mislabelled" if mislabelled(case) else "invalid"
        self.seen[(case.operation.label, mode, response.status_code)] += 1

    def token_for(self, operation: APIOperation) -> str | None:
        """The bearer token for an operation that names a security scheme (at
        introspection, the resource server's Basic credentials)."""
        if not operation.definition.raw.get("security"):
            return None
        if operation.path == INTROSPECT:
            return base64.b64encode(f"fuzz:{INTROSPECTION_SECRET}".encode()).decode()
        identity = self.admin if operation.path in ADMIN_PATHS else self.user
        return identity.access_token()

    def provider_answer(self, subject: str, email: str) -> dict[str, str]:
        """A sign-in at the provider as ``subject`` (``email``, verified), started through
        the fuzz server: the ``code`` and ``state`` it sends back."""
        self.provider.set_account(subject, email)
        started = self.client.post(f"{OIDC}/local/authorize", json={"redirect_uri": APP_CALLBACK})
        assert started.status_code == 200, started.text
        return self.provider.answer(started.json()["authorization_url"], APP_CALLBACK)

    def link_token(self) -> str:
        """A sign-in whose address an account made for it holds: LINK_REQUIRED's token
        (the account's password is PASSWORD)."""
        email = f"fuzz-link-{uuid.uuid4().hex}@example.com"
        _register(self.client, email)
        answer = self.provider_answer(f"sub-{email}", email)
        body = {"code": answer["code"], "state": answer["state"]}
        refused = self.client.post(f"{OIDC}/local/callback", json=body)
        assert refused.status_code == 409, refused.text
        token = str(refused.json()["error"]["details"]["link_token"])
        self.secret_log.add("fuzzer link token", token)
        return token

    def linked(self) -> tuple[str, str]:
        """An account with a password and a linked identity: its access token and the
        identity's id."""
        body = {"link_token": self.link_token(), "password": PASSWORD}
        session = self.client.post(f"{OIDC}/link", json=body)
        assert session.status_code == 200, session.text
        token = session.json()["access_token"]
        self.secret_log.add("fuzzer access token", token)
        listed = self.client.get(f"{API}/users/me/identities", headers=bearer(token))
        assert listed.status_code == 200, listed.text
        return token, listed.json()["items"][0]["id"]

    def new_account(self) -> str:
        """An account made for one request (its password is PASSWORD); its access token."""
        token = str(
            _register(self.client, f"fuzz-once-{uuid.uuid4().hex}@example.com")["access_token"]
        )
        self.secret_log.add("fuzzer access token", token)
        return token

    def enrolled(self) -> tuple[dict[str, Any], list[str]]:
        """An account made for one request, with two-factor sign-in on: its session (from
        the registration) and its recovery codes."""
        session = _register(self.client, f"fuzz-2fa-{uuid.uuid4().hex}@example.com")
        self.secret_log.add("fuzzer access token", session["access_token"])
        headers = bearer(session["access_token"])
        setup = self.client.post(f"{MFA}/totp/setup", json={"password": PASSWORD}, headers=headers)
        assert setup.status_code == 200, setup.text
        code = pyotp.TOTP(setup.json()["secret"]).now()
        confirmed = self.client.post(f"{MFA}/totp/confirm", json={"code": code}, headers=headers)
        assert confirmed.status_code == 200, confirmed.text
        codes: list[str] = confirmed.json()["recovery_codes"]
        for each in codes:
            self.secret_log.add("fuzzer recovery code", each)
        return session, codes

    def with_passkey(self, token: str | None = None) -> tuple[str, str, SoftAuthenticator]:
        """A passkey added for one request, to the account of ``token`` (else to an
        account made for it): that access token, the passkey's id, its authenticator."""
        token = token or self.new_account()
        authenticator = SoftAuthenticator(origin=PUBLIC_URL)
        answer = authenticator.create(_passkey_options(self.client, token))
        added = self.client.post(
            f"{PASSKEYS}/register/verify", json={"credential": answer}, headers=bearer(token)
        )
        assert added.status_code == 201, added.text
        return token, str(added.json()["id"]), authenticator

    def strong(self, generated: str) -> str:
        """``generated``, or as close to it as passes the server's policy: it is kept
        whole if it passes, else a tail that passes any profile replaces its end."""
        policy = build_policy(self.profile, common_passwords())
        try:
            policy.check(generated)
        except DomainError:
            tail = f"Aa1!{secrets.token_hex(8)}"
            generated = generated[: MAX_PASSWORD_LENGTH - len(tail)] + tail
            policy.check(generated)
        self.secret_log.add("fuzzer password", generated)
        return generated


def _mfa_token(client: httpx.Client, email: str) -> str:
    """The ``mfa_token`` a right password gets from an account with two-factor sign-in."""
    asked = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert asked.status_code == 401, asked.text
    return str(asked.json()["error"]["details"]["mfa_token"])


def _passkey_options(client: httpx.Client, token: str) -> dict[str, Any]:
    """Options to add a passkey to the account of ``token``."""
    options = client.post(
        f"{PASSKEYS}/register/options", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert options.status_code == 200, options.text
    return dict(options.json())


def _session_id(session: dict[str, Any]) -> str:
    """The session (``sid``) of a sign-in's access token."""
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    return str(claims["sid"])


def _issued_cursor(client: httpx.Client, path: str, token: str) -> str:
    response = client.get(path, params={"limit": 1}, headers=bearer(token))
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert cursor, f"GET {path}?limit=1 gave no next page: {response.text}"
    return str(cursor)


def _register(client: httpx.Client, email: str) -> dict[str, Any]:
    response = client.post(
        f"{API}/auth/register",
        json={"email": email, "full_name": "Fuzz User", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def fuzz_provider(secret_log: SecretLog) -> Iterator[OidcProvider]:
    with OidcProvider([APP_CALLBACK]) as provider:
        secret_log.add("provider client secret", provider.client_secret)
        yield provider


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory, secret_log: SecretLog, fuzz_provider: OidcProvider
) -> Iterator[ServerProcess]:
    """A server for the fuzzer alone: it trusts the fuzzer (127.0.0.1) as a reverse
    proxy, so that each request can name a client address of its own; it signs in with
    ``fuzz_provider``."""
    with Rig(tmp_path_factory.mktemp("fuzz")) as rig, rig.explained():
        url = rig.database("fuzz")
        env = rig.env(
            url,
            rig.smtp().port,
            trusted_proxies="127.0.0.1",
            introspection_clients=INTROSPECTION_CLIENTS,
            oidc_providers=json.dumps([fuzz_provider.settings_entry]),
            oidc_redirect_uris=APP_CALLBACK,
        )
        server = rig.server(env)
        secret_log.watch(server.log_path, env)
        yield server


@pytest.fixture(scope="module")
def fuzzer(
    fuzz_server: ServerProcess, secret_log: SecretLog, fuzz_provider: OidcProvider
) -> Iterator[Fuzzer]:
    """A user and a superuser, logged in; an account to administer; a cursor of each
    listing; the HTTP session the fuzzing requests go out on."""
    print(f"NEODYME_FUZZ_SEED={SEED} NEODYME_FUZZ_EXAMPLES={EXAMPLES}")
    tag = uuid.uuid4().hex[:8]
    user_email, admin_email = f"fuzz-{tag}@example.com", f"fuzz-admin-{tag}@example.com"
    secret_log.add("fuzzer password", PASSWORD)
    secret_log.add("introspection secret", INTROSPECTION_SECRET)
    cli = Cli(env=fuzz_server.env, cwd=fuzz_server.workdir)
    created = asyncio.run(cli.create_user(admin_email, "Fuzz Admin", PASSWORD, superuser=True))
    assert created.returncode == 0, created.stderr
    profile = PolicyProfile(fuzz_server.env.get("NEODYME_PASSWORD_POLICY", "book"))
    with (
        httpx.Client(base_url=fuzz_server.base_url, trust_env=False, timeout=30) as client,
        requests.Session() as session,
    ):
        _register(client, user_email)
        target_email = f"fuzz-target-{tag}@example.com"
        target = _register(client, target_email)
        user, admin = (Identity(client, email, secret_log) for email in (user_email, admin_email))
        cursors = {
            f"{API}/users": _issued_cursor(client, f"{API}/users", admin.access_token()),
            f"{API}/users/me/events": _issued_cursor(
                client, f"{API}/users/me/events", user.access_token()
            ),
        }
        session.trust_env = False  # a proxy configured in the environment must not sit between
        fuzzer = Fuzzer(
            client,
            session,
            user,
            admin,
            cursors,
            target["user"]["id"],
            Identity(client, target_email, secret_log),
            profile,
            secret_log,
            fuzz_provider,
        )
        yield fuzzer
    _print_seen(fuzzer.seen)


def _print_seen(seen: Counter[tuple[str, str, int]]) -> None:
    """What each operation answered, by mode: what a reader of ``-s`` output wants to
    know about a campaign (how much valid data was refused, and why)."""
    by_operation: dict[tuple[str, str], list[str]] = {}
    for (operation, mode, status), n in sorted(seen.items()):
        by_operation.setdefault((operation, mode), []).append(f"{status} x{n}")
    print("statuses by operation and mode:")
    for (operation, mode), statuses in by_operation.items():
        print(f"  {operation} [{mode}]: {', '.join(statuses)}")


@pytest.fixture(scope="module")
def served_schema(fuzz_server: ServerProcess, fuzzer: Fuzzer) -> OpenApiSchema:
    """The document the server serves, with the fuzzer's tokens as its credentials."""
    loaded = schemathesis.openapi.from_url(
        f"{fuzz_server.base_url}/schema/openapi.json", config=fuzzing_config(), timeout=30
    )

    class BearerTokens:
        """Sent on every operation that names the scheme, except in the requests that
        test what the server does without it (those get invalid or no credentials).
        Asked for each request (no caching), so a token is always a current one."""

        def get(self, case: Case, ctx: AuthContext) -> str | None:
            return fuzzer.token_for(ctx.operation)

        def set(self, case: Case, data: str, ctx: AuthContext) -> None:
            scheme = "Basic" if ctx.operation.path == INTROSPECT else "Bearer"
            case.headers = {**(case.headers or {}), "Authorization": f"{scheme} {data}"}

    loaded.auth(refresh_interval=None)(BearerTokens)
    return loaded


schema = schemathesis.pytest.from_fixture("served_schema")


def is_valid(case: Case) -> bool:
    """Generated to fit the document: schemathesis's positive mode, less the requests in
    which it broke a part on purpose all the same (``mislabelled``)."""
    return _is_positive(case) and not mislabelled(case)


def _is_positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def mislabelled(case: Case) -> bool:
    """schemathesis 4.32 labels positive some requests of its fuzzing phase whose
    Authorization header it made up ("violates `format`", a mutation): no valid
    credential, and a 401 is the right answer. They are held to every check but the one
    for valid data."""
    return _is_positive(case) and bool(getattr(case.meta.phase.data, "mutations", ()))


def make_it_succeed(case: Case, fuzzer: Fuzzer) -> None:
    """Turn a valid request into one that can succeed (the module docstring's list)."""
    body = case.body if isinstance(case.body, dict) else None
    if case.path in LISTINGS and (case.query or {}).get("cursor") is not None:
        case.query["cursor"] = fuzzer.cursors[case.path]
    parameters = case.path_parameters or {}
    if "user_id" in parameters:
        parameters["user_id"] = fuzzer.target_id
    if case.path == USER_MFA:  # an account whose second factor the superuser can reset
        parameters["user_id"] = fuzzer.enrolled()[0]["user"]["id"]
    if "session_id" in parameters:
        owner = fuzzer.user
        if "user_id" in parameters:  # the target may have been deactivated by a request
            owner = fuzzer.target
            reactivated = fuzzer.client.patch(
                f"{API}/users/{fuzzer.target_id}",
                json={"is_active": True},
                headers=bearer(fuzzer.admin.access_token()),
            )
            assert reactivated.status_code == 200, reactivated.text
        parameters["session_id"] = _session_id(owner.login())
    if "provider" in parameters:
        parameters["provider"] = "local"
    if "identity_id" in parameters:
        token, parameters["identity_id"] = fuzzer.linked()
        case.headers |= bearer(token)
    if "passkey_id" in parameters:
        token, parameters["passkey_id"], _ = fuzzer.with_passkey()
        case.headers |= bearer(token)
    if body is None:
        return
    if case.path == INTROSPECT:
        body["token"] = fuzzer.user.access_token()
    if case.path == f"{OIDC}/{{provider}}/authorize":
        body["redirect_uri"] = APP_CALLBACK
    if case.path == f"{OIDC}/{{provider}}/callback":  # the fuzzer's own provider account
        answer = fuzzer.provider_answer("fuzz-oidc-sub", f"fuzz-oidc-{SEED}@example.com")
        body |= {"code": answer["code"], "state": answer["state"]}
    if case.path == f"{OIDC}/link":
        body |= {"link_token": fuzzer.link_token(), "password": PASSWORD}
    if case.path == f"{API}/auth/login":
        body |= {"email": fuzzer.user.email, "password": PASSWORD}
    if case.path in REFRESH_TOKEN_BODIES:
        body["refresh_token"] = fuzzer.user.login()["refresh_token"]
    if case.path == f"{API}/auth/register" and isinstance(body.get("email"), str):
        body["email"] = unique_address(body["email"])
    if case.path == f"{API}/users/me/email" and isinstance(body.get("new_email"), str):
        body |= {"new_email": unique_address(body["new_email"]), "password": PASSWORD}
    if case.path in NEW_PASSWORDS and isinstance(body.get(NEW_PASSWORDS[case.path]), str):
        body[NEW_PASSWORDS[case.path]] = fuzzer.strong(body[NEW_PASSWORDS[case.path]])
    if case.path in (f"{MFA}/totp/setup", f"{MFA}/totp/confirm"):
        token = fuzzer.new_account()
        case.headers |= bearer(token)
        body |= {"password": PASSWORD} if "password" in body else {}
        if "code" in body:  # set up, so that the app's current code confirms it
            setup = fuzzer.client.post(
                f"{MFA}/totp/setup", json={"password": PASSWORD}, headers=bearer(token)
            )
            body["code"] = pyotp.TOTP(setup.json()["secret"]).now()
    if case.path in NEEDS_TWO_FACTOR:
        session, codes = fuzzer.enrolled()
        case.headers |= bearer(session["access_token"])
        body |= {"password": PASSWORD} | ({"code": codes[0]} if "code" in body else {})
    if case.path == f"{MFA}/verify":
        session, codes = fuzzer.enrolled()
        token = _mfa_token(fuzzer.client, session["user"]["email"])
        fuzzer.secret_log.add("fuzzer mfa token", token)
        body.clear()  # exactly one of code and recovery_code: what the schema cannot say
        body |= {"mfa_token": token, "recovery_code": codes[0]}
    if case.path == f"{PASSKEYS}/register/options":
        body["password"] = PASSWORD
    if case.path == f"{PASSKEYS}/register/verify":
        token = fuzzer.new_account()
        case.headers |= bearer(token)
        answer = SoftAuthenticator(origin=PUBLIC_URL).create(_passkey_options(fuzzer.client, token))
        body["credential"] = answer
    if case.path == f"{PASSKEYS}/login/options" and "mfa_token" in body:
        session, _ = fuzzer.enrolled()
        fuzzer.with_passkey(session["access_token"])
        body["mfa_token"] = _mfa_token(fuzzer.client, session["user"]["email"])
        fuzzer.secret_log.add("fuzzer mfa token", body["mfa_token"])
    if case.path == f"{PASSKEYS}/login/verify":
        _, _, authenticator = fuzzer.with_passkey()
        options = fuzzer.client.post(f"{PASSKEYS}/login/options", json={})
        assert options.status_code == 200, options.text
        body["credential"] = authenticator.get(options.json())
    if case.path in ENDS_THE_SESSION and case.method.upper() in {"POST", "DELETE"}:
        case.headers |= bearer(fuzzer.new_account())
        body |= {"current_password": PASSWORD} if "current_password" in body else {}
        body |= {"password": PASSWORD} if "password" in body else {}


def unique_address(generated: str) -> str:
    """``generated`` with a unique first atom added to its local part (its spaces, dots
    and domain kept), or a unique address at its domain where that does not fit."""
    stripped = generated.strip()
    local, _, domain = stripped.rpartition("@")
    tag = f"u{uuid.uuid4().hex[:15]}"
    if len(local) + len(tag) + 1 <= MAX_LOCAL_PART_LENGTH:
        unique = generated.replace(stripped, f"{tag}.{local}@{domain}", 1)
        if len(unique) <= MAX_EMAIL_LENGTH:
            return unique
    if len(tag) + 1 + len(domain) <= MAX_EMAIL_LENGTH:
        return f"{tag}@{domain}"
    return f"{tag}@example.com"


def _from_a_client_of_its_own(case: Case) -> None:
    """A fresh client address (a /64 of the IPv6 documentation prefix, the unit the
    server's address throttle counts in), forwarded by the trusted fuzzer."""
    client = f"2001:db8:{secrets.randbits(16):x}:{secrets.randbits(16):x}::1"
    case.headers = {**(case.headers or {}), "X-Forwarded-For": client}


# schemathesis 4.32 renames the subtest of each operation through a node attribute that
# pytest 9.2 no longer has; without this, the test errors before it starts.
if not hasattr(pytest.Function, "_nodeid"):
    pytest.Function._nodeid = property(  # type: ignore[attr-defined]
        lambda node: node.nodeid, lambda node, value: None
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,  # a real server on a busy machine: latency is not what this measures
    database=None,  # nothing written to .hypothesis/ in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_response_is_documented(
    case: Case, fuzzer: Fuzzer, fuzz_server: ServerProcess
) -> None:
    if is_valid(case):
        make_it_succeed(case, fuzzer)
    _from_a_client_of_its_own(case)
    case.call_and_validate(
        base_url=fuzz_server.base_url,
        session=fuzzer.session,
        additional_checks=[fuzzer.count],
        excluded_checks=[positive_data_acceptance] if mislabelled(case) else [],
    )
