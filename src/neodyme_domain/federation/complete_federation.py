"""The provider sent the user back: check its answer, then sign in, create or ask to link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from neodyme_domain.errors import (
    AccountInactive,
    FederationRefused,
    LinkRequired,
    ProviderEmailUnverified,
    ValidationFailed,
)
from neodyme_domain.federation.linking import link_identity
from neodyme_domain.federation.model import (
    REQUEST_TTL,
    FederationRequest,
    ProviderClaims,
    RequestPurpose,
    new_secret,
)
from neodyme_domain.messages import NO_ORIGIN, EmailMessage, RequestOrigin, SecurityEvent
from neodyme_domain.model import MAX_FULL_NAME_LENGTH, NO_PASSWORD, Email, User, parse_full_name
from neodyme_domain.ports import Clock, IdentityProviders, TokenService, UnitOfWork
from neodyme_domain.sessions.sign_in import complete_sign_in
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases.authenticate import Authenticated, second_factor_required

METHOD = "oidc"
"""The ``method`` of the ``user_login`` and ``user_registration`` events it records."""


@dataclass(frozen=True, slots=True)
class FederationCallback:
    """What the provider's redirect carried back (its ``state`` and ``code``)."""

    provider: str
    state: str
    code: str
    origin: RequestOrigin = NO_ORIGIN


class CompleteFederation:
    """Spend the request the ``state`` names (unknown, spent, expired, or another
    provider's: FEDERATION_REFUSED), have the provider's code exchanged and its ID token
    verified with the request's nonce and PKCE verifier, then, by the provider's subject:

    - linked to an account: sign its owner in, as a login does (an inactive account is
      ACCOUNT_INACTIVE; with two-factor sign-in on, MFA_REQUIRED: the provider replaced
      the password, not the second factor);
    - unknown, and nobody holds its address: a new account, verified (the provider
      vouched for the address) and without a password, linked and signed in; only if the
      provider says ``email_verified`` (else PROVIDER_EMAIL_UNVERIFIED, nothing made);
    - unknown, and an account holds its address: LINK_REQUIRED with a ``link_token``, for
      ``ConfirmLink`` once the owner proves the account is theirs; never linked here.

    The request is spent before the provider is asked, so a replayed callback (the same
    ``state`` and ``code``) is refused by neodyme whatever the provider says.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        providers: IdentityProviders,
        tokens: TokenService,
        clock: Clock,
        new_device_window: timedelta | None = None,
    ) -> None:
        self._uow = uow
        self._providers = providers
        self._tokens = tokens
        self._clock = clock
        self._new_device_window = new_device_window

    async def __call__(self, cmd: FederationCallback) -> Authenticated:
        request = await self._spend(cmd)
        claims = await self._providers.claims(
            cmd.provider,
            code=cmd.code,
            redirect_uri=request.redirect_uri,
            code_verifier=request.code_verifier,
            nonce=request.nonce,
        )
        now = self._clock.now()
        async with self._uow as uow:
            linked = await uow.linked_identities.by_subject(claims.provider, claims.subject)
            if linked is not None:
                owner = await uow.users.get(linked.user_id)
                assert owner is not None  # the link holds a foreign key to it
                return await self._sign_in(uow, owner, claims, now, cmd.origin)
            email = _vouched_address(claims)
            holder = await uow.users.get_by_email(email)
            if holder is None:
                user = await self._register(uow, claims, email, now, cmd.origin)
                return await self._sign_in(uow, user, claims, now, cmd.origin)
            link_token = new_secret()
            await uow.federation_requests.add(
                FederationRequest(
                    digest=digest(link_token),
                    purpose=RequestPurpose.LINK,
                    provider=claims.provider,
                    created_at=now,
                    expires_at=now + REQUEST_TTL,
                    user_id=holder.id,
                    subject=claims.subject,
                    email=email.value,
                )
            )
            await uow.commit()
        raise LinkRequired(
            link_token=link_token,
            provider=claims.provider,
            email=email.value,
            expires_in=int(REQUEST_TTL.total_seconds()),
            context={"user_id": holder.id},
        )

    async def _spend(self, cmd: FederationCallback) -> FederationRequest:
        async with self._uow as uow:
            request = await uow.federation_requests.take(digest(cmd.state), self._clock.now())
            await uow.commit()
        if (
            request is None
            or request.purpose is not RequestPurpose.AUTHORIZATION
            or request.provider != cmd.provider
        ):
            raise FederationRefused(context={"provider": cmd.provider, "reason": "state"})
        return request

    async def _sign_in(
        self,
        uow: UnitOfWork,
        user: User,
        claims: ProviderClaims,
        now: datetime,
        origin: RequestOrigin,
    ) -> Authenticated:
        if not user.is_active:
            raise AccountInactive(context={"user_id": user.id})
        if user.mfa_enabled:
            required = await second_factor_required(uow, user, now)
            await uow.commit()
            raise required
        pair = await complete_sign_in(
            uow,
            self._tokens,
            user,
            now=now,
            origin=origin,
            new_device_window=self._new_device_window,
            method=METHOD,
            provider=claims.provider,
        )
        await uow.commit()
        return Authenticated(user=user, tokens=pair)

    @staticmethod
    async def _register(
        uow: UnitOfWork, claims: ProviderClaims, email: Email, now: datetime, origin: RequestOrigin
    ) -> User:
        user = User.register(
            email=email, full_name=_full_name(claims, email), hashed_password=NO_PASSWORD, now=now
        )
        user.mark_verified(now)
        await uow.users.add(user)  # EMAIL_ALREADY_EXISTS if a registration won a race
        await uow.outbox.add(EmailMessage.welcome(user), now)
        await uow.events.record(
            SecurityEvent.of(
                "user_registration",
                now,
                user.id,
                origin,
                user_email=email.value,
                method=METHOD,
                provider=claims.provider,
            )
        )
        await link_identity(
            uow, user, claims.provider, claims.subject, email.value, now, origin, notify=False
        )
        return user


def _vouched_address(claims: ProviderClaims) -> Email:
    """The provider's address, if it says it verified it and neodyme accepts it."""
    if not claims.email or not claims.email_verified:
        raise ProviderEmailUnverified(
            context={"provider": claims.provider, "subject": claims.subject}
        )
    try:
        return Email.parse(claims.email)
    except ValidationFailed:
        raise FederationRefused(
            context={"provider": claims.provider, "reason": "address neodyme does not accept"}
        ) from None


def _full_name(claims: ProviderClaims, email: Email) -> str:
    """The provider's ``name`` if neodyme accepts it, else the address's local part."""
    try:
        return parse_full_name((claims.name or "")[:MAX_FULL_NAME_LENGTH])
    except ValidationFailed:
        return parse_full_name(email.value.partition("@")[0][:MAX_FULL_NAME_LENGTH])
