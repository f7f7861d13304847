"""The signing-key store over the in-memory state (``store.MemoryState``), by generation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from neodyme_domain.tokens.signing_keys import SigningKey


class InMemorySigningKeyStore:
    def __init__(self, keys: dict[int, SigningKey]) -> None:
        self._keys = keys

    async def add(self, key: SigningKey) -> bool:
        if key.generation in self._keys:
            return False
        self._keys[key.generation] = key
        return True

    async def all(self) -> list[SigningKey]:
        return [self._keys[generation] for generation in sorted(self._keys)]

    async def reseal(self, kid: str, sealed_private_key: str) -> None:
        for generation, key in self._keys.items():
            if key.kid == kid:
                self._keys[generation] = replace(key, sealed_private_key=sealed_private_key)

    async def delete(self, kids: Sequence[str]) -> None:
        for generation in [g for g, key in self._keys.items() if key.kid in kids]:
            del self._keys[generation]
