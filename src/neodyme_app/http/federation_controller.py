"""Sign-in with another OpenID Connect provider, for clients that handle the redirect
themselves (a mobile or single-page app): /api/v1/auth/oidc; and the providers linked to
one's account: /api/v1/users/me/identities. The pages offer the same flow with their own
callback (``pages/federation_pages.py``).

The flow: ``authorize`` (with one of ``NEODYME_OIDC_REDIRECT_URIS``) gives the provider's
URL; the provider sends the user to the redirect URI with ``code`` and ``state``; the
client posts both to ``callback`` and gets a session as a login does, or MFA_REQUIRED
(then ``/auth/mfa/verify``), or LINK_REQUIRED (then ``link`` with the account's password).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter

from neodyme_app.http.auth_controller import NO_STORE
from neodyme_app.http.dependencies import AUTHENTICATED, ContainerDep, CurrentUser, Origin
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import (
    AuthorizationOut,
    AuthorizeBody,
    CallbackBody,
    IdentityList,
    LinkBody,
    ProviderList,
    SessionOut,
)
from neodyme_app.http.users_controller import parse_user_id
from neodyme_domain.errors import ValidationFailed
from neodyme_domain.federation.complete_federation import FederationCallback
from neodyme_domain.federation.confirm_link import LinkConfirmation
from neodyme_domain.federation.model import REQUEST_TTL
from neodyme_domain.federation.unlink_identity import IdentityUnlinking

ProviderName = Annotated[
    str,
    PathParameter(max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$", description="A provider."),
]
SIGN_IN_ERRORS = ("PROVIDER_NOT_FOUND", "PROVIDER_UNAVAILABLE")


class FederationController(Controller):
    path = "/api/v1/auth/oidc"
    tags = ["federation"]

    @get("/providers", sync_to_thread=False)
    def providers(self, container: ContainerDep) -> ProviderList:
        """The providers of ``NEODYME_OIDC_PROVIDERS``: one "Sign in with" button each."""
        return ProviderList.of(container.identity_providers().providers())

    @post(
        "/{provider:str}/authorize",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors(*SIGN_IN_ERRORS),
    )
    async def authorize(
        self, provider: ProviderName, data: JSONBody[AuthorizeBody], container: ContainerDep
    ) -> AuthorizationOut:
        """Start a sign-in: where to send the user (PKCE, ``state`` and ``nonce`` are
        neodyme's to keep), valid for ten minutes."""
        if data.redirect_uri not in container.settings().allowed_redirect_uris:
            raise ValidationFailed("redirect_uri", "not one of NEODYME_OIDC_REDIRECT_URIS")
        started = await container.begin_federation()(provider, data.redirect_uri)
        return AuthorizationOut(started.url, started.state, int(REQUEST_TTL.total_seconds()))

    @post(
        "/{provider:str}/callback",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors(
            *SIGN_IN_ERRORS,
            "FEDERATION_REFUSED",
            "PROVIDER_EMAIL_UNVERIFIED",
            "LINK_REQUIRED",
            "MFA_REQUIRED",
            "ACCOUNT_INACTIVE",
            "IDENTITY_TAKEN",
            "EMAIL_ALREADY_EXISTS",
        ),
    )
    async def callback(
        self,
        provider: ProviderName,
        data: JSONBody[CallbackBody],
        container: ContainerDep,
        origin: Origin,
    ) -> SessionOut:
        """Finish it with what the provider sent back: a session, for the account linked
        to the provider's user, or a new one if nobody holds its (verified) address."""
        callback = FederationCallback(provider, data.state, data.code, origin)
        signed_in = await container.complete_federation()(callback)
        return SessionOut.of(signed_in.user, signed_in.tokens)

    @post(
        "/link",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors(
            "FEDERATION_REFUSED",
            "INVALID_CREDENTIALS",
            "MFA_REQUIRED",
            "ACCOUNT_INACTIVE",
            "TOO_MANY_ATTEMPTS",
            "IDENTITY_TAKEN",
        ),
    )
    async def link(
        self, data: JSONBody[LinkBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        """Prove the account with LINK_REQUIRED's address is yours (its password, counted
        like a login's): the provider is linked, and you are signed in."""
        confirmation = LinkConfirmation(data.link_token, data.password, origin)
        signed_in = await container.confirm_link()(confirmation)
        return SessionOut.of(signed_in.user, signed_in.tokens)


class MyIdentitiesController(Controller):
    path = "/api/v1/users/me/identities"
    tags = ["federation"]
    dependencies = AUTHENTICATED

    @get("/")
    async def my_identities(
        self, current_user: CurrentUser, container: ContainerDep
    ) -> IdentityList:
        """The providers linked to your account, oldest first."""
        return IdentityList.of(await container.list_identities()(current_user))

    @delete(
        "/{identity_id:str}",
        status_code=204,
        responses=documented_errors("IDENTITY_NOT_FOUND", "LAST_SIGN_IN_METHOD"),
    )
    async def unlink(
        self,
        identity_id: Annotated[
            str, PathParameter(format="uuid", description="The linked identity's id.")
        ],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> None:
        """Unlink a provider: it signs in to your account no more; you are told by e-mail.
        Not the last way to sign in (a password, a passkey or another provider)."""
        unlinking = IdentityUnlinking(
            current_user, parse_user_id(identity_id, "identity_id"), origin
        )
        await container.unlink_identity()(unlinking)
