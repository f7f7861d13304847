"""Give a passkey a name its owner recognises ("Work laptop", "Phone")."""

from __future__ import annotations

from dataclasses import dataclass, replace

from neodyme_domain.model import User, parse_label
from neodyme_domain.passkeys.model import MAX_PASSKEY_NAME, Passkey
from neodyme_domain.passkeys.owned import owned_passkey
from neodyme_domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class PasskeyRename:
    user: User
    passkey_id: str
    name: str


class RenamePasskey:
    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, cmd: PasskeyRename) -> Passkey:
        name = parse_label(cmd.name, "name", MAX_PASSKEY_NAME)
        async with self._uow as uow:
            passkey = await owned_passkey(uow, cmd.user, cmd.passkey_id)
            await uow.passkeys.rename(passkey.id, name)
            await uow.commit()
        return replace(passkey, name=name)
