"""A server starting with an asymmetric algorithm makes sure a key of it signs."""

from __future__ import annotations

from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.ports import UnitOfWork
from neodyme_domain.tokens.rotate_signing_key import RotateSigningKey
from neodyme_domain.tokens.signing_keys import SigningAlgorithm


class EnsureSigningKey:
    """If the newest key is not of ``algorithm`` (a new install, or the setting just
    changed), add one, active at once: no process can have signed anything with it yet,
    and the servers run this before they serve. Two processes starting together add one
    key: the second finds the generation it judged no longer the newest, and keeps the
    first's key."""

    def __init__(self, *, uow: UnitOfWork, rotate: RotateSigningKey) -> None:
        self._uow = uow
        self._rotate = rotate

    async def __call__(self, algorithm: SigningAlgorithm) -> bool:
        """True if it added a key."""
        async with self._uow as uow:
            keys = await uow.signing_keys.all()
        newest = max(keys, key=lambda key: key.generation, default=None)
        if newest is not None and newest.algorithm == algorithm:
            return False
        try:
            await self._rotate(algorithm, at_once=True, after=newest.generation if newest else 0)
        except ServiceUnavailable:  # another process added it first
            return False
        return True
