"""The passkey stores over the in-memory state (``store.MemoryState``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from neodyme_domain.model import UserId
from neodyme_domain.passkeys.model import Passkey, WebAuthnChallenge


class InMemoryPasskeyStore:
    def __init__(self, passkeys: dict[str, Passkey]) -> None:
        self._passkeys = passkeys

    async def add(self, passkey: Passkey) -> bool:
        if await self.by_credential(passkey.credential_id) is not None:
            return False
        self._passkeys[passkey.id] = passkey
        return True

    async def get(self, passkey_id: str) -> Passkey | None:
        return self._passkeys.get(passkey_id)

    async def by_credential(self, credential_id: str) -> Passkey | None:
        return next((p for p in self._passkeys.values() if p.credential_id == credential_id), None)

    async def list_for(self, user_id: UserId) -> list[Passkey]:
        owned = [p for p in self._passkeys.values() if p.user_id == user_id]
        return sorted(owned, key=lambda p: (p.created_at, p.id))

    async def count_for(self, user_id: UserId) -> int:
        return sum(1 for p in self._passkeys.values() if p.user_id == user_id)

    async def rename(self, passkey_id: str, name: str) -> None:
        passkey = self._passkeys.get(passkey_id)
        if passkey is not None:
            self._passkeys[passkey_id] = replace(passkey, name=name)

    async def delete(self, passkey_id: str) -> bool:
        return self._passkeys.pop(passkey_id, None) is not None

    async def record_use(
        self, passkey_id: str, *, seen_count: int, sign_count: int, backed_up: bool, at: datetime
    ) -> bool:
        passkey = self._passkeys.get(passkey_id)
        if passkey is None or passkey.sign_count != seen_count:
            return False
        self._passkeys[passkey_id] = replace(
            passkey, sign_count=sign_count, backed_up=backed_up, last_used_at=at
        )
        return True


class InMemoryWebAuthnChallengeStore:
    def __init__(self, challenges: dict[str, WebAuthnChallenge]) -> None:
        self._challenges = challenges

    async def add(self, challenge: WebAuthnChallenge) -> None:
        self._challenges[challenge.challenge_digest] = challenge

    async def take(self, challenge_digest: str, at: datetime) -> WebAuthnChallenge | None:
        challenge = self._challenges.get(challenge_digest)
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= at:
            return None
        taken = replace(challenge, used_at=at)
        self._challenges[challenge_digest] = taken
        return taken

    async def purge_expired(self, now: datetime) -> int:
        expired = [key for key, c in self._challenges.items() if c.expires_at <= now]
        for key in expired:
            del self._challenges[key]
        return len(expired)
