"""WebAuthn Level 2 ceremonies through py_webauthn (the ``webauthn`` package).

The relying party's id is the host of ``NEODYME_PUBLIC_URL`` and its origins that URL's
origin plus ``NEODYME_WEBAUTHN_ORIGINS``: a credential created for one rp id never signs
for another, and an answer collected on a page of another origin is refused.

Both ceremonies ask for user verification ("required"): a passkey is a whole sign-in on
its own (something held and something known or being), so an authenticator that only
proves presence is not enough. Credentials are asked to be discoverable ("resident key
required") so that the sign-in page needs no e-mail address first. Attestation is not
asked for ("none"): which vendor made an authenticator is not a policy neodyme has.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from neodyme_domain.errors import PasskeyInvalid
from neodyme_domain.passkeys.model import CHALLENGE_TTL, NewCredential, VerifiedAssertion

TIMEOUT_MS = int(CHALLENGE_TTL.total_seconds() * 1000)
TRANSPORTS = frozenset(transport.value for transport in AuthenticatorTransport)


@dataclass(frozen=True, slots=True)
class RelyingParty:
    id: str
    """The host name credentials are scoped to (WebAuthn "RP ID")."""
    name: str
    origins: tuple[str, ...]
    """Every origin (scheme://host[:port]) whose pages may run the ceremonies."""


class PyWebAuthnCeremonies:
    """The ``WebAuthnCeremonies`` port. Any failure to verify, from a malformed answer to
    a bad signature, is ``PasskeyInvalid`` with py_webauthn's reason in its context (for
    the log, never the response)."""

    def __init__(self, relying_party: RelyingParty) -> None:
        self._rp = relying_party

    def registration_options(
        self,
        *,
        challenge: bytes,
        user_handle: bytes,
        user_name: str,
        display_name: str,
        exclude: Sequence[str],
    ) -> dict[str, object]:
        options = generate_registration_options(
            rp_id=self._rp.id,
            rp_name=self._rp.name,
            user_id=user_handle,
            user_name=user_name,
            user_display_name=display_name,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(exclude),
        )
        return _as_dict(options_to_json(options))

    def verify_registration(self, answer: dict[str, object], *, challenge: bytes) -> NewCredential:
        try:
            verified = verify_registration_response(
                credential=answer,
                expected_challenge=challenge,
                expected_rp_id=self._rp.id,
                expected_origin=list(self._rp.origins),
                require_user_verification=True,
            )
        except Exception as exc:  # any failure on untrusted bytes: see _refusal
            raise _refusal(exc) from exc
        return NewCredential(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=_transports(answer),
            aaguid=verified.aaguid,
            backup_eligible=verified.credential_device_type is CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
        )

    def authentication_options(
        self, *, challenge: bytes, allow: Sequence[str]
    ) -> dict[str, object]:
        options = generate_authentication_options(
            rp_id=self._rp.id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            allow_credentials=_descriptors(allow),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return _as_dict(options_to_json(options))

    def verify_authentication(
        self, answer: dict[str, object], *, challenge: bytes, public_key: bytes
    ) -> VerifiedAssertion:
        try:
            verified = verify_authentication_response(
                credential=answer,
                expected_challenge=challenge,
                expected_rp_id=self._rp.id,
                expected_origin=list(self._rp.origins),
                credential_public_key=public_key,
                # Judged by the domain, which records a counter that went backwards.
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except Exception as exc:  # any failure on untrusted bytes: see _refusal
            raise _refusal(exc) from exc
        return VerifiedAssertion(
            sign_count=verified.new_sign_count,
            backed_up=verified.credential_backed_up,
            user_verified=verified.user_verified,
        )

    def challenge_of(self, answer: dict[str, object]) -> bytes | None:
        response = answer.get("response")
        if not isinstance(response, dict):
            return None
        try:
            client_data = json.loads(base64url_to_bytes(str(response.get("clientDataJSON"))))
            return base64url_to_bytes(str(client_data["challenge"]))
        except (ValueError, TypeError, KeyError):
            return None

    def credential_id_of(self, answer: dict[str, object]) -> str:
        credential_id = answer.get("id")
        return credential_id if isinstance(credential_id, str) else ""


def _refusal(exc: Exception) -> PasskeyInvalid:
    """An answer is the client's bytes: py_webauthn reports what it finds wrong as
    ``WebAuthnException``, but a malformed structure can surface from the parsers under
    it (CBOR, COSE, base64) as any exception. Every one is a refusal, never a 500."""
    kind = "" if isinstance(exc, WebAuthnException) else f"{type(exc).__name__}: "
    return PasskeyInvalid(context={"reason": f"{kind}{exc}"[:300]})


def _descriptors(credential_ids: Sequence[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(each)) for each in credential_ids]


def _transports(answer: dict[str, object]) -> tuple[str, ...]:
    """The transports the browser reported (hints for later ``allowCredentials``), the
    ones WebAuthn names only."""
    response = answer.get("response")
    listed: Any = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(listed, list):
        return ()
    return tuple(each for each in listed if isinstance(each, str) and each in TRANSPORTS)


def _as_dict(options_json: str) -> dict[str, object]:
    options: dict[str, object] = json.loads(options_json)
    return options
