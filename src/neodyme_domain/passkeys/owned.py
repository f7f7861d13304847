"""Finding one of the caller's own passkeys."""

from __future__ import annotations

from neodyme_domain.errors import PasskeyNotFound
from neodyme_domain.model import User
from neodyme_domain.passkeys.model import Passkey
from neodyme_domain.ports import UnitOfWork


async def owned_passkey(uow: UnitOfWork, user: User, passkey_id: str) -> Passkey:
    """The user's passkey ``passkey_id``; PASSKEY_NOT_FOUND for an unknown id and for
    another user's alike, so that nobody learns of other accounts' passkeys."""
    passkey = await uow.passkeys.get(passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise not_found(user)
    return passkey


def not_found(user: User) -> PasskeyNotFound:
    return PasskeyNotFound(context={"user_id": user.id})
