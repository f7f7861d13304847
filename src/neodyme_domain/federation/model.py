"""What the federation capability keeps: identities of other providers linked to accounts,
and the requests in flight between neodyme and a provider.

A provider's user is named by ``(provider, subject)``: the ``sub`` of its ID token, stable
for that provider (OpenID Connect Core section 5.7), unlike the e-mail address, which can
change or be reassigned. The address only decides what happens the first time a subject
is seen: a new account if nobody holds the address (and the provider verified it), a link
the account's owner must confirm if somebody does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from neodyme_domain.model import UserId

REQUEST_TTL = timedelta(minutes=10)
"""How long a sign-in at the provider, or a link waiting for its proof, stays open."""


class RequestPurpose(StrEnum):
    AUTHORIZATION = "authorization"
    """On its way to the provider: the callback's ``state`` names it."""
    LINK = "link"
    """Back from the provider with an address an account already holds: waiting for the
    account's owner to prove it is theirs (``link_token``)."""


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """A provider of the settings, as the sign-in pages and the API list it."""

    name: str
    title: str


@dataclass(frozen=True, slots=True)
class ProviderClaims:
    """What a verified ID token (and the provider's userinfo) says about its user."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class LinkedIdentity:
    id: UserId
    user_id: UserId
    provider: str
    subject: str
    email: str
    """The address the provider gave when the link was made (shown to the user)."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FederationRequest:
    """A flow in progress, kept by the digest of the secret its client holds (the
    ``state`` of an authorization, the ``link_token`` of a link) and spent once.

    An authorization keeps what the callback needs to check the provider's answer: the
    ``nonce`` its ID token must carry, the PKCE ``code_verifier`` and the ``redirect_uri``
    the code was sent to. A link keeps the provider's subject and the account it waits for.
    """

    digest: str
    purpose: RequestPurpose
    provider: str
    created_at: datetime
    expires_at: datetime
    nonce: str = ""
    code_verifier: str = ""
    redirect_uri: str = ""
    user_id: UserId | None = None
    subject: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Authorization:
    """Where to send the user: the provider's authorization URL, with ``state``."""

    url: str
    state: str


def new_secret() -> str:
    """256 random bits, URL-safe: a ``state``, a ``nonce``, a PKCE verifier (RFC 7636
    section 4.1: 43 characters of the unreserved set), a link token."""
    return secrets.token_urlsafe(32)
