"""The second half of adding a passkey: the authenticator's answer, verified and kept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from neodyme_domain.errors import InvalidChallenge, PasskeyAlreadyRegistered
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User, parse_label
from neodyme_domain.notices import security_notice
from neodyme_domain.passkeys.challenges import issued_for, signed_challenge, spend_challenge
from neodyme_domain.passkeys.model import MAX_PASSKEY_NAME, Ceremony, Passkey
from neodyme_domain.ports import Clock, UnitOfWork, WebAuthnCeremonies
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class PasskeyRegistration:
    user: User
    answer: dict[str, object]
    """The browser's ``RegistrationResponseJSON``."""
    name: str | None = None
    origin: RequestOrigin = NO_ORIGIN


class AddPasskey:
    """Verifies the answer against the challenge issued to this same user, and keeps
    the credential under the name the user chose ("Passkey N" if none). Recorded as
    ``passkey_added`` and told to the owner by e-mail: a passkey signs in without a
    password, so its owner must hear of one they did not add."""

    def __init__(self, *, uow: UnitOfWork, ceremonies: WebAuthnCeremonies, clock: Clock) -> None:
        self._uow = uow
        self._ceremonies = ceremonies
        self._clock = clock

    async def __call__(self, cmd: PasskeyRegistration) -> Passkey:
        name = None if cmd.name is None else parse_label(cmd.name, "name", MAX_PASSKEY_NAME)
        now = self._clock.now()
        raw = signed_challenge(self._ceremonies, cmd.answer)
        async with self._uow as uow:
            spent = await spend_challenge(uow, raw, now)
            await uow.commit()
        challenge = issued_for(spent, Ceremony.REGISTRATION)
        if challenge.user_id != cmd.user.id:
            raise InvalidChallenge(context={"user_id": cmd.user.id, "reason": "another user's"})
        credential = self._ceremonies.verify_registration(cmd.answer, challenge=raw)
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            if name is None:
                name = f"Passkey {await uow.passkeys.count_for(user.id) + 1}"
            passkey = Passkey(
                id=str(uuid.uuid4()),
                user_id=user.id,
                credential_id=credential.credential_id,
                public_key=credential.public_key,
                sign_count=credential.sign_count,
                name=name,
                created_at=now,
                transports=credential.transports,
                aaguid=credential.aaguid,
                backup_eligible=credential.backup_eligible,
                backed_up=credential.backed_up,
            )
            if not await uow.passkeys.add(passkey):
                raise PasskeyAlreadyRegistered(context={"user_id": user.id})
            await uow.events.record(
                SecurityEvent.of(
                    "passkey_added", now, user.id, cmd.origin, passkey_id=passkey.id, name=name
                )
            )
            await uow.outbox.add(
                security_notice("passkey_added", user, now, cmd.origin, name=name), now
            )
            await uow.commit()
        return passkey
