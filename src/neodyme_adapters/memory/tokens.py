"""The signing-key store over the in-memory state (``store.MemoryState``), by generation."""

from __future__ import annotations

from collections.abc import Sequence

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

    async def delete(self, kids: Sequence[str]) -> None:
        for generation in [g for g, key in self._keys.items() if key.kid in kids]:
            del self._keys[generation]
