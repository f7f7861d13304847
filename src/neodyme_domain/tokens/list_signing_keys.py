"""``neodyme keys list``, and what each server process loads into its key ring."""

from __future__ import annotations

from datetime import timedelta

from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.tokens.signing_keys import KeyStatus, key_statuses


class ListSigningKeys:
    def __init__(self, *, uow: UnitOfWork, clock: Clock, lifetime: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._lifetime = lifetime

    async def __call__(self) -> list[KeyStatus]:
        """Every stored key with its state now, newest first."""
        async with self._uow as uow:
            keys = await uow.signing_keys.all()
        return key_statuses(keys, self._clock.now(), self._lifetime)
