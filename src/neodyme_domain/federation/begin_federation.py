"""Start a sign-in at another provider: where to send the user, and what to check later."""

from __future__ import annotations

from neodyme_domain.federation.model import (
    REQUEST_TTL,
    Authorization,
    FederationRequest,
    RequestPurpose,
    new_secret,
)
from neodyme_domain.ports import Clock, IdentityProviders, UnitOfWork
from neodyme_domain.tokens.model import digest


class BeginFederation:
    """OpenID Connect Core section 3.1.2.1 with PKCE (RFC 7636): a fresh ``state`` (ties
    the callback to this request, against login CSRF), ``nonce`` (ties the ID token to
    it, against replayed tokens) and code verifier (ties the code to whoever started, if
    the code leaks). The provider is asked for its authorization URL first, so a provider
    that is down or unknown is answered before anything is stored. The request is kept by
    the digest of its ``state`` for ``REQUEST_TTL``; expired ones go as new ones come.

    ``redirect_uri`` is the caller's (the pages' callback, or an API client's registered
    one): which URIs are allowed is the app's settings' call, checked before this.
    """

    def __init__(self, *, uow: UnitOfWork, providers: IdentityProviders, clock: Clock) -> None:
        self._uow = uow
        self._providers = providers
        self._clock = clock

    async def __call__(self, provider: str, redirect_uri: str) -> Authorization:
        state, nonce, code_verifier = new_secret(), new_secret(), new_secret()
        url = await self._providers.authorization_url(
            provider,
            redirect_uri=redirect_uri,
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
        )
        now = self._clock.now()
        async with self._uow as uow:
            await uow.federation_requests.purge_expired(now)
            await uow.federation_requests.add(
                FederationRequest(
                    digest=digest(state),
                    purpose=RequestPurpose.AUTHORIZATION,
                    provider=provider,
                    created_at=now,
                    expires_at=now + REQUEST_TTL,
                    nonce=nonce,
                    code_verifier=code_verifier,
                    redirect_uri=redirect_uri,
                )
            )
            await uow.commit()
        return Authorization(url=url, state=state)
