"""A user's linked identities, for them to recognise and unlink."""

from __future__ import annotations

from neodyme_domain.federation.model import LinkedIdentity
from neodyme_domain.model import User
from neodyme_domain.ports import UnitOfWork


class ListIdentities:
    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, user: User) -> list[LinkedIdentity]:
        async with self._uow as uow:
            return await uow.linked_identities.for_user(user.id)
