"""The first half of adding a passkey: the options the browser's authenticator needs."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.model import User
from neodyme_domain.passkeys.challenges import issue_challenge
from neodyme_domain.passkeys.model import Ceremony
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork, WebAuthnCeremonies
from neodyme_domain.reauthentication import confirm_password
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class PasskeyOptionsRequest:
    user: User
    password: str


class BeginPasskeyRegistration:
    """Options for ``navigator.credentials.create()``: a challenge stored for this user,
    the user's handle (their id's 16 bytes: no e-mail address on the authenticator's
    side of the protocol), and their passkeys already registered, which the
    authenticator then refuses to register twice.

    The password is asked again, as for turning on two-factor sign-in: an access token
    alone must not add a way into the account that outlives it.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        ceremonies: WebAuthnCeremonies,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._ceremonies = ceremonies
        self._clock = clock

    async def __call__(self, cmd: PasskeyOptionsRequest) -> dict[str, object]:
        await confirm_password(self._hasher, cmd.user, cmd.password)
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            registered = await uow.passkeys.list_for(user.id)
            challenge = await issue_challenge(
                uow, Ceremony.REGISTRATION, self._clock.now(), user_id=user.id
            )
            await uow.commit()
        return self._ceremonies.registration_options(
            challenge=challenge,
            user_handle=user.id.bytes,
            user_name=user.email.value,
            display_name=user.full_name,
            exclude=[passkey.credential_id for passkey in registered],
        )
