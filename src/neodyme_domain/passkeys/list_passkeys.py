"""A user's passkeys, for them to recognise and manage."""

from __future__ import annotations

from neodyme_domain.model import User
from neodyme_domain.passkeys.model import Passkey
from neodyme_domain.ports import UnitOfWork


class ListPasskeys:
    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, user: User) -> list[Passkey]:
        async with self._uow as uow:
            return await uow.passkeys.list_for(user.id)
