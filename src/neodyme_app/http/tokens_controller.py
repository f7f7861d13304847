"""What other services need to trust neodyme's tokens: the public keys
(``/.well-known/jwks.json``), the metadata that points at them
(``/.well-known/openid-configuration``) and RFC 7662 introspection.

neodyme is not an OpenID Provider (it has no authorization endpoint): its metadata
document names the issuer, the JWKS and the introspection endpoint, what a library that
discovers keys from an issuer (PyJWT's ``PyJWKClient`` given the ``jwks_uri``, a gateway's
JWT plugin) reads, and nothing it does not serve.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from litestar import Controller, Request, Response, get, post
from litestar.params import URLEncodedBody

from neodyme_app.config import Settings
from neodyme_app.http.auth_controller import NO_STORE
from neodyme_app.http.dependencies import ContainerDep, Origin
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.openapi import CLIENT_SCHEME
from neodyme_app.http.schemas import IntrospectionForm, IntrospectionOut
from neodyme_app.pages import FORM_BODY
from neodyme_domain.errors import InvalidClient, ValidationFailed
from neodyme_domain.tokens.introspect_token import IntrospectionQuery

JWKS_PATH = "/.well-known/jwks.json"
INTROSPECTION_PATH = "/api/v1/auth/introspect"
MAX_TOKEN = 8192
"""A token longer than this is no neodyme token: refused before it is parsed."""


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["tokens"]

    @get("/jwks.json", sync_to_thread=False, media_type="application/jwk-set+json")
    def jwks(self, container: ContainerDep) -> Response[dict[str, Any]]:
        """The public keys that verify live access tokens (RFC 7517), newest first: the
        one that signs, a rotated one published ahead, and superseded ones until every
        token they signed has expired. Empty with HS256 (nothing to publish). Cacheable
        for a third of the publishing delay, so a cache learns a new key before it signs."""
        settings = container.settings()
        ring = container.key_ring()
        keys = ring.jwks(container.clock().now()) if ring is not None else {"keys": []}
        max_age = int(settings.key_reload_seconds)
        return Response(
            keys,
            media_type="application/jwk-set+json",
            headers={"Cache-Control": f"public, max-age={max_age}"},
        )

    @get("/openid-configuration", sync_to_thread=False)
    def configuration(self, container: ContainerDep) -> Response[dict[str, Any]]:
        """The issuer (the tokens' ``iss``), where its keys are and how to introspect."""
        return Response(
            metadata(container.settings()), headers={"Cache-Control": "public, max-age=3600"}
        )


def metadata(settings: Settings) -> dict[str, Any]:
    base = settings.public_url.rstrip("/")
    return {
        "issuer": settings.jwt_issuer,
        "jwks_uri": base + JWKS_PATH,
        "introspection_endpoint": base + INTROSPECTION_PATH,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
    }


class IntrospectionController(Controller):
    path = INTROSPECTION_PATH
    tags = ["tokens"]

    @post(
        "/",
        status_code=200,
        opt={FORM_BODY: True},
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CLIENT", "TOO_MANY_ATTEMPTS"),
        security=[{CLIENT_SCHEME: []}],
    )
    async def introspect(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[IntrospectionForm],
        container: ContainerDep,
        origin: Origin,
    ) -> IntrospectionOut:
        """RFC 7662 for the resource servers of ``NEODYME_INTROSPECTION_CLIENTS`` (HTTP
        Basic): ``{"active": false}`` for any dead token, else its claims."""
        client_id, secret = basic_credentials(request.headers.get("authorization", ""))
        if not data.token or len(data.token) > MAX_TOKEN:
            raise ValidationFailed("token", f"required, at most {MAX_TOKEN} characters")
        query = IntrospectionQuery(client_id, secret, data.token, origin.client_ip)
        claims = await container.introspect_token()(query)
        settings = container.settings()
        return IntrospectionOut.of(
            claims, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )


def basic_credentials(header: str) -> tuple[str, str]:
    """Client id and secret of an ``Authorization: Basic`` header, each form-urlencoded
    before encoding (RFC 6749 section 2.3.1); ``InvalidClient`` if there is none."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient(context={"reason": "no basic credentials"})
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient(context={"reason": "malformed basic credentials"}) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient(context={"reason": "malformed basic credentials"})
    return unquote_plus(client_id), unquote_plus(secret)
