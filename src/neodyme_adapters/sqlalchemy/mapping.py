"""Rows to entities and entities to column values: explicit, so the domain never learns
that a database exists.

``*_to_row`` functions return the values of every column (keyed by column name);
``*_from_row`` functions take a row of the matching table (anything with attribute access
by column name, as SQLAlchemy's ``Row``) and build the domain object. The ``UtcDateTime``
column type already hands out aware UTC datetimes; ``utc`` re-checks it at this boundary
(it costs nothing), so no naive datetime can leave the adapters whatever produced the row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from neodyme_adapters.json_values import to_json
from neodyme_domain.federation.model import FederationRequest, LinkedIdentity, RequestPurpose
from neodyme_domain.messages import EmailMessage, OutboxEntry, SecurityEvent
from neodyme_domain.mfa.model import MfaChallenge, TotpAuthenticator
from neodyme_domain.model import Email, User
from neodyme_domain.passkeys.model import Ceremony, Passkey, WebAuthnChallenge
from neodyme_domain.sessions.model import Session
from neodyme_domain.throttling import ThrottleState
from neodyme_domain.tokens.model import OneTimePurpose, OneTimeTokenRecord, RefreshTokenRecord


def utc(value: datetime) -> datetime:
    """Aware UTC: SQLite returns naive datetimes, which are stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def user_to_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.value,
        "email_key": user.email.key,
        "full_name": user.full_name,
        "hashed_password": user.hashed_password,
        "is_active": user.is_active,
        "is_verified": user.is_verified,
        "is_superuser": user.is_superuser,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "token_version": user.token_version,
        "mfa_enabled": user.mfa_enabled,
    }


def user_from_row(row: Any) -> User:
    return User(
        id=row.id,
        # Email(...) rather than Email.parse(...): the stored form was validated when the
        # user was created, and a stricter future parser must not make old rows unreadable.
        email=Email(row.email),
        full_name=row.full_name,
        hashed_password=row.hashed_password,
        is_active=bool(row.is_active),
        is_verified=bool(row.is_verified),
        is_superuser=bool(row.is_superuser),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        token_version=row.token_version,
        mfa_enabled=bool(row.mfa_enabled),
    )


def refresh_token_to_row(record: RefreshTokenRecord) -> dict[str, Any]:
    return {
        "token_digest": record.token_digest,
        "user_id": record.user_id,
        "family_id": record.family_id,
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "used_at": record.used_at,
        "revoked_at": record.revoked_at,
    }


def refresh_token_from_row(row: Any) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        token_digest=row.token_digest,
        user_id=row.user_id,
        family_id=row.family_id,
        issued_at=utc(row.issued_at),
        expires_at=utc(row.expires_at),
        used_at=utc_or_none(row.used_at),
        revoked_at=utc_or_none(row.revoked_at),
    )


def one_time_token_to_row(record: OneTimeTokenRecord) -> dict[str, Any]:
    return {
        "token_digest": record.token_digest,
        "user_id": record.user_id,
        "purpose": record.purpose.value,
        "user_stamp": record.user_stamp,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "used_at": record.used_at,
        "new_email": record.new_email,
    }


def one_time_token_from_row(row: Any) -> OneTimeTokenRecord:
    return OneTimeTokenRecord(
        token_digest=row.token_digest,
        user_id=row.user_id,
        purpose=OneTimePurpose(row.purpose),
        user_stamp=row.user_stamp,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        used_at=utc_or_none(row.used_at),
        new_email=row.new_email,
    )


def outbox_entry_to_row(entry: OutboxEntry) -> dict[str, Any]:
    message = entry.message
    return {
        "id": entry.id,
        "kind": message.kind,
        "recipient": message.to,
        "subject": message.subject,
        "body": message.body,
        "data": to_json(message.data),
        "created_at": entry.created_at,
        "attempts": entry.attempts,
        "next_attempt_at": entry.next_attempt_at,
        "sent_at": entry.sent_at,
        "last_error": entry.last_error,
        "dead_at": entry.dead_at,
    }


def outbox_entry_from_row(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        message=EmailMessage(
            kind=row.kind,
            to=row.recipient,
            subject=row.subject,
            body=row.body,
            data=dict(row.data or {}),
        ),
        created_at=utc(row.created_at),
        attempts=row.attempts,
        next_attempt_at=utc_or_none(row.next_attempt_at),
        sent_at=utc_or_none(row.sent_at),
        last_error=row.last_error,
        dead_at=utc_or_none(row.dead_at),
    )


def security_event_to_row(event: SecurityEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "user_id": event.user_id,
        "occurred_at": event.occurred_at,
        "client_ip": event.client_ip,
        "user_agent": event.user_agent,
        "data": to_json(event.data),
    }


def security_event_from_row(row: Any) -> SecurityEvent:
    return SecurityEvent(
        id=row.id,
        type=row.type,
        user_id=row.user_id,
        occurred_at=utc(row.occurred_at),
        client_ip=row.client_ip,
        user_agent=row.user_agent,
        data=dict(row.data or {}),
    )


def throttle_state_to_row(state: ThrottleState) -> dict[str, Any]:
    return {
        "key": state.key,
        "window_start": state.window_start,
        "failures": state.failures,
        "lockouts": state.lockouts,
        "locked_until": state.locked_until,
        "expires_at": state.expires_at,
    }


def throttle_state_from_row(row: Any) -> ThrottleState:
    return ThrottleState(
        key=row.key,
        window_start=utc(row.window_start),
        failures=row.failures,
        lockouts=row.lockouts,
        locked_until=utc_or_none(row.locked_until),
        expires_at=utc(row.expires_at),
    )


def session_to_row(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "user_agent": session.user_agent,
        "client_ip": session.client_ip,
        "ended_at": session.ended_at,
    }


def session_from_row(row: Any) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        created_at=utc(row.created_at),
        last_used_at=utc(row.last_used_at),
        expires_at=utc(row.expires_at),
        user_agent=row.user_agent,
        client_ip=row.client_ip,
        ended_at=utc_or_none(row.ended_at),
    )


def totp_to_row(authenticator: TotpAuthenticator) -> dict[str, Any]:
    return {
        "user_id": authenticator.user_id,
        "sealed_secret": authenticator.sealed_secret,
        "created_at": authenticator.created_at,
        "confirmed_at": authenticator.confirmed_at,
        "last_used_step": authenticator.last_used_step,
    }


def totp_from_row(row: Any) -> TotpAuthenticator:
    return TotpAuthenticator(
        user_id=row.user_id,
        sealed_secret=row.sealed_secret,
        created_at=utc(row.created_at),
        confirmed_at=utc_or_none(row.confirmed_at),
        last_used_step=row.last_used_step,
    )


def mfa_challenge_to_row(challenge: MfaChallenge) -> dict[str, Any]:
    return {
        "token_digest": challenge.token_digest,
        "user_id": challenge.user_id,
        "user_stamp": challenge.user_stamp,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "failures": challenge.failures,
        "used_at": challenge.used_at,
    }


def mfa_challenge_from_row(row: Any) -> MfaChallenge:
    return MfaChallenge(
        token_digest=row.token_digest,
        user_id=row.user_id,
        user_stamp=row.user_stamp,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        failures=row.failures,
        used_at=utc_or_none(row.used_at),
    )


def passkey_to_row(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.id,
        "user_id": passkey.user_id,
        "credential_id": passkey.credential_id,
        "public_key": passkey.public_key,
        "sign_count": passkey.sign_count,
        "name": passkey.name,
        "transports": " ".join(passkey.transports),
        "aaguid": passkey.aaguid,
        "backup_eligible": passkey.backup_eligible,
        "backed_up": passkey.backed_up,
        "created_at": passkey.created_at,
        "last_used_at": passkey.last_used_at,
    }


def passkey_from_row(row: Any) -> Passkey:
    return Passkey(
        id=row.id,
        user_id=row.user_id,
        credential_id=row.credential_id,
        public_key=bytes(row.public_key),
        sign_count=row.sign_count,
        name=row.name,
        created_at=utc(row.created_at),
        transports=tuple(row.transports.split()),
        aaguid=row.aaguid,
        backup_eligible=row.backup_eligible,
        backed_up=row.backed_up,
        last_used_at=utc_or_none(row.last_used_at),
    )


def webauthn_challenge_to_row(challenge: WebAuthnChallenge) -> dict[str, Any]:
    return {
        "challenge_digest": challenge.challenge_digest,
        "ceremony": challenge.ceremony.value,
        "user_id": challenge.user_id,
        "mfa_digest": challenge.mfa_digest,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "used_at": challenge.used_at,
    }


def webauthn_challenge_from_row(row: Any) -> WebAuthnChallenge:
    return WebAuthnChallenge(
        challenge_digest=row.challenge_digest,
        ceremony=Ceremony(row.ceremony),
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        user_id=row.user_id,
        mfa_digest=row.mfa_digest,
        used_at=utc_or_none(row.used_at),
    )


def linked_identity_to_row(identity: LinkedIdentity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "user_id": identity.user_id,
        "provider": identity.provider,
        "subject": identity.subject,
        "email": identity.email,
        "created_at": identity.created_at,
    }


def linked_identity_from_row(row: Any) -> LinkedIdentity:
    return LinkedIdentity(
        id=row.id,
        user_id=row.user_id,
        provider=row.provider,
        subject=row.subject,
        email=row.email,
        created_at=utc(row.created_at),
    )


def federation_request_to_row(request: FederationRequest) -> dict[str, Any]:
    return {
        "digest": request.digest,
        "purpose": request.purpose.value,
        "provider": request.provider,
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "nonce": request.nonce,
        "code_verifier": request.code_verifier,
        "redirect_uri": request.redirect_uri,
        "user_id": request.user_id,
        "subject": request.subject,
        "email": request.email,
    }


def federation_request_from_row(row: Any) -> FederationRequest:
    return FederationRequest(
        digest=row.digest,
        purpose=RequestPurpose(row.purpose),
        provider=row.provider,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        nonce=row.nonce,
        code_verifier=row.code_verifier,
        redirect_uri=row.redirect_uri,
        user_id=row.user_id,
        subject=row.subject,
        email=row.email,
    )
