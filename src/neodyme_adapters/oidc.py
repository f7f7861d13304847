"""Other OpenID Connect providers, as neodyme's relying party sees them: authlib's OAuth 2
parameters (the authorization request with PKCE, the token request and its
``client_secret_basic`` authentication) sent with httpx, joserfc for the ID token.
(authlib's own httpx client now wants the ``httpx2`` fork; neodyme keeps one HTTP client.)

Discovery (OpenID Connect Discovery 1.0) runs on first use and is kept for an hour per
process; its ``issuer`` must be the configured one (section 4.3). The provider's JWKS is
read again for every callback: a sign-in with another provider already costs the token
round trip, and a key the provider rotated (or withdrew) is seen at once, with no cache
to invalidate. ID tokens are checked as OpenID Connect Core section 3.1.3.7 asks:
signature (an asymmetric algorithm the provider announces), ``iss``, ``aud`` (and
``azp`` when there are several audiences), ``exp`` and ``iat`` with a minute of leeway,
``nonce``; userinfo (5.3) supplies the address when the ID token lacks it, and must name
the same ``sub``.

Failures: no answer, a timeout or a 5xx is ``ProviderUnavailable``; anything else that
does not prove the user (an error from the token endpoint such as a replayed code, a
token that fails a check) is ``FederationRefused`` with the reason in its context.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from neodyme_domain.errors import FederationRefused, ProviderNotFound, ProviderUnavailable
from neodyme_domain.federation.model import ProviderClaims, ProviderInfo

SCOPE = "openid email profile"
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
"""ID token algorithms accepted: never ``none``, never HS* (a client secret is no key a
provider should sign with for many clients)."""
LEEWAY = 60
"""Seconds of clock skew allowed between the provider and neodyme."""
DISCOVERY_TTL = 3600.0


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    name: str
    title: str
    issuer: str
    client_id: str
    client_secret: str


class OidcProviders:
    """``IdentityProviders`` over the providers of the settings."""

    def __init__(self, providers: Sequence[ProviderSettings], *, timeout: float = 10.0) -> None:
        self._providers = {provider.name: provider for provider in providers}
        self._timeout = timeout
        self._discovered: dict[str, tuple[float, dict[str, Any]]] = {}

    def providers(self) -> Sequence[ProviderInfo]:
        return [ProviderInfo(p.name, p.title) for p in self._providers.values()]

    async def authorization_url(
        self, provider: str, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        settings = self._settings(provider)
        metadata = await self._metadata(settings)
        return str(
            prepare_grant_uri(
                metadata["authorization_endpoint"],
                settings.client_id,
                "code",
                redirect_uri=redirect_uri,
                scope=SCOPE,
                state=state,
                nonce=nonce,
                code_challenge=create_s256_code_challenge(code_verifier),
                code_challenge_method="S256",
            )
        )

    async def claims(
        self, provider: str, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> ProviderClaims:
        settings = self._settings(provider)
        metadata = await self._metadata(settings)
        async with self._http() as client:
            token = await _exchange(client, metadata, settings, redirect_uri, code, code_verifier)
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise _refused(settings, "no ID token")
            keys = await _get_json(client, metadata["jwks_uri"], settings)
            claims = _verified(id_token, keys, metadata, settings, nonce)
            if "userinfo_endpoint" in metadata and "email" not in claims:
                userinfo = await _get_json(
                    client,
                    metadata["userinfo_endpoint"],
                    settings,
                    headers={"Authorization": f"Bearer {token.get('access_token', '')}"},
                )
                if userinfo.get("sub") != claims["sub"]:
                    raise _refused(settings, "userinfo names another subject")
                claims = {**userinfo, **claims}
        email = claims.get("email")
        return ProviderClaims(
            provider=settings.name,
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            email_verified=claims.get("email_verified") is True,
            name=claims["name"] if isinstance(claims.get("name"), str) else None,
        )

    def _settings(self, provider: str) -> ProviderSettings:
        settings = self._providers.get(provider)
        if settings is None:
            raise ProviderNotFound(context={"provider": provider})
        return settings

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, trust_env=False)

    async def _metadata(self, settings: ProviderSettings) -> dict[str, Any]:
        cached = self._discovered.get(settings.name)
        if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL:
            return cached[1]
        url = settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with self._http() as client:
            metadata = await _get_json(client, url, settings)
        if metadata.get("issuer") != settings.issuer:
            raise ProviderUnavailable(
                context={"provider": settings.name, "reason": "discovery names another issuer"}
            )
        needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(metadata.get(field), str) for field in needed):
            raise ProviderUnavailable(
                context={"provider": settings.name, "reason": "incomplete discovery document"}
            )
        self._discovered[settings.name] = (time.monotonic(), metadata)
        return metadata


async def _get_json(
    client: httpx.AsyncClient,
    url: str,
    settings: ProviderSettings,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    try:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise _unavailable(settings, exc) from None
    if not isinstance(document, dict):
        raise _unavailable(settings, TypeError("not a JSON object"))
    return document


async def _exchange(
    client: httpx.AsyncClient,
    metadata: Mapping[str, Any],
    settings: ProviderSettings,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """The token request (RFC 6749 section 4.1.3, with the PKCE verifier), the client
    authenticated with HTTP Basic. An error answer (invalid_grant for a replayed or
    expired code) refuses; no answer or a 5xx is the provider being down."""
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    auth = ClientAuth(settings.client_id, settings.client_secret, "client_secret_basic")
    url, headers, body = auth.prepare("POST", metadata["token_endpoint"], headers, body)
    try:
        response = await client.post(url, headers=headers, content=body)
    except httpx.HTTPError as exc:
        raise _unavailable(settings, exc) from None
    if response.status_code >= 500:
        raise _unavailable(settings, RuntimeError(f"HTTP {response.status_code}"))
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or response.status_code != 200 or "error" in token:
        error = token.get("error") if isinstance(token, dict) else None
        raise _refused(settings, f"token endpoint: HTTP {response.status_code} {error}")
    return token


def _verified(
    id_token: str,
    keys: dict[str, Any],
    metadata: Mapping[str, Any],
    settings: ProviderSettings,
    nonce: str,
) -> dict[str, Any]:
    announced = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in announced if alg in ASYMMETRIC]
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(cast(Any, keys)), algorithms=algorithms)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": settings.issuer},
            sub={"essential": True},
            aud={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise _refused(settings, f"ID token: {type(exc).__name__}: {exc}") from None
    claims = dict(token.claims)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if settings.client_id not in audiences:
        raise _refused(settings, "ID token: another audience")
    if len(audiences) > 1 and claims.get("azp") != settings.client_id:
        raise _refused(settings, "ID token: another authorized party")
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise _refused(settings, "ID token: nonce")
    return claims


def _refused(settings: ProviderSettings, reason: str) -> FederationRefused:
    return FederationRefused(context={"provider": settings.name, "reason": reason})


def _unavailable(settings: ProviderSettings, exc: Exception) -> ProviderUnavailable:
    return ProviderUnavailable(
        retry_after=30, context={"provider": settings.name, "reason": type(exc).__name__}
    )
