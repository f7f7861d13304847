"""In-memory stores of the second factor, over the state of
``neodyme_adapters.memory.store``. Transactions there are serialised by the database lock,
so each check-then-write below is atomic as the ports require."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from neodyme_domain.mfa.model import MfaChallenge, TotpAuthenticator
from neodyme_domain.model import UserId

RecoveryCodes = dict[tuple[UserId, str], datetime | None]
"""(user, code digest) to the time the code was used (None: unused)."""


class InMemoryTotpStore:
    def __init__(self, authenticators: dict[UserId, TotpAuthenticator]) -> None:
        self._authenticators = authenticators

    async def get(self, user_id: UserId) -> TotpAuthenticator | None:
        return self._authenticators.get(user_id)

    async def put(self, authenticator: TotpAuthenticator) -> None:
        self._authenticators[authenticator.user_id] = authenticator

    async def use_step(self, user_id: UserId, step: int) -> bool:
        current = self._authenticators.get(user_id)
        if current is None or (
            current.last_used_step is not None and current.last_used_step >= step
        ):
            return False
        self._authenticators[user_id] = replace(current, last_used_step=step)
        return True

    async def delete(self, user_id: UserId) -> bool:
        return self._authenticators.pop(user_id, None) is not None

    async def list_all(self) -> list[TotpAuthenticator]:
        return sorted(self._authenticators.values(), key=lambda a: a.user_id)


class InMemoryRecoveryCodeStore:
    def __init__(self, codes: RecoveryCodes) -> None:
        self._codes = codes

    async def replace(self, user_id: UserId, digests: Sequence[str]) -> None:
        await self.delete_all(user_id)
        for code_digest in digests:
            self._codes[(user_id, code_digest)] = None

    async def use(self, user_id: UserId, code_digest: str, at: datetime) -> bool:
        key = (user_id, code_digest)
        if key not in self._codes or self._codes[key] is not None:
            return False
        self._codes[key] = at
        return True

    async def remaining(self, user_id: UserId) -> int:
        return sum(
            1 for (owner, _), used in self._codes.items() if owner == user_id and used is None
        )

    async def delete_all(self, user_id: UserId) -> None:
        for key in [key for key in self._codes if key[0] == user_id]:
            del self._codes[key]


class InMemoryMfaChallengeStore:
    def __init__(self, challenges: dict[str, MfaChallenge]) -> None:
        self._challenges = challenges

    async def add(self, challenge: MfaChallenge) -> None:
        self._challenges[challenge.token_digest] = challenge

    async def get(self, token_digest: str) -> MfaChallenge | None:
        return self._challenges.get(token_digest)

    async def count_failure(self, token_digest: str) -> int:
        challenge = self._challenges.get(token_digest)
        if challenge is None:
            return 0
        counted = replace(challenge, failures=challenge.failures + 1)
        self._challenges[token_digest] = counted
        return counted.failures

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        challenge = self._challenges.get(token_digest)
        if challenge is None or challenge.used_at is not None:
            return False
        self._challenges[token_digest] = replace(challenge, used_at=at)
        return True

    async def purge_expired(self, now: datetime) -> int:
        expired = [key for key, c in self._challenges.items() if c.expires_at <= now]
        for key in expired:
            del self._challenges[key]
        return len(expired)
