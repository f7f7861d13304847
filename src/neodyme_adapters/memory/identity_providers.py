"""An in-memory ``IdentityProviders``: providers whose users the caller scripts, for the
domain's tests and for programs embedding neodyme without a real provider at hand.

``authorization_url`` remembers what each request asked (state, nonce, code verifier,
redirect URI); ``sign_in`` plays the provider's part, as a user signing in there would,
and gives the ``code`` the callback carries. ``claims`` then checks what a real provider
and the ID token checks would: the code was issued, not yet spent, for that redirect URI
and verifier; the nonce is the request's.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from neodyme_domain.errors import FederationRefused, ProviderNotFound, ProviderUnavailable
from neodyme_domain.federation.model import ProviderClaims, ProviderInfo


@dataclass(frozen=True, slots=True)
class _Grant:
    claims: ProviderClaims
    redirect_uri: str
    code_verifier: str
    nonce: str


class InMemoryIdentityProviders:
    def __init__(self, providers: Sequence[ProviderInfo]) -> None:
        self._providers = {provider.name: provider for provider in providers}
        self._requests: dict[str, tuple[str, str, str, str]] = {}
        """state -> (provider, redirect_uri, nonce, code_verifier)"""
        self._grants: dict[str, _Grant] = {}
        self.down: set[str] = set()
        """Providers that do not answer (``ProviderUnavailable``)."""

    def providers(self) -> Sequence[ProviderInfo]:
        return list(self._providers.values())

    async def authorization_url(
        self, provider: str, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        self._answering(provider)
        self._requests[state] = (provider, redirect_uri, nonce, code_verifier)
        return f"https://{provider}.example/authorize?state={state}"

    def sign_in(
        self,
        url: str,
        *,
        subject: str,
        email: str | None,
        email_verified: bool = True,
        name: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """The user signs in at the provider the authorization ``url`` points to: the code
        the provider sends back (``nonce``: another one than the request's, to play a
        provider whose token does not answer this request)."""
        state = parse_qs(urlsplit(url).query)["state"][0]
        provider, redirect_uri, asked_nonce, verifier = self._requests[state]
        claims = ProviderClaims(provider, subject, email, email_verified, name)
        code = secrets.token_urlsafe(16)
        self._grants[code] = _Grant(claims, redirect_uri, verifier, nonce or asked_nonce)
        return code

    async def claims(
        self, provider: str, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> ProviderClaims:
        self._answering(provider)
        grant = self._grants.pop(code, None)
        if (
            grant is None
            or grant.claims.provider != provider
            or grant.redirect_uri != redirect_uri
            or grant.code_verifier != code_verifier
        ):
            raise FederationRefused(context={"provider": provider, "reason": "invalid_grant"})
        if grant.nonce != nonce:
            raise FederationRefused(context={"provider": provider, "reason": "ID token: nonce"})
        return grant.claims

    def _answering(self, provider: str) -> None:
        if provider not in self._providers:
            raise ProviderNotFound(context={"provider": provider})
        if provider in self.down:
            raise ProviderUnavailable(context={"provider": provider, "reason": "down"})


if TYPE_CHECKING:
    from neodyme_domain.ports import IdentityProviders

    _checked: type[IdentityProviders] = InMemoryIdentityProviders
