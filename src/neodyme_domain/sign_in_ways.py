"""How many ways an account has to sign in: what unlinking or removing one must not end."""

from __future__ import annotations

from neodyme_domain.model import User
from neodyme_domain.ports import UnitOfWork


async def sign_in_ways(uow: UnitOfWork, user: User) -> int:
    """Its password (if it has one: an account made by a provider has none), passkeys
    and linked identities. "Forgot password" can still give any account a password, but
    a user should not need it to get back in after a click on "Unlink"."""
    identities = await uow.linked_identities.for_user(user.id)
    passkeys = await uow.passkeys.count_for(user.id)
    return int(user.has_password) + passkeys + len(identities)
