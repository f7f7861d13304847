"""The federation stores over the in-memory state (``store.MemoryState``)."""

from __future__ import annotations

from datetime import datetime

from neodyme_domain.federation.model import FederationRequest, LinkedIdentity
from neodyme_domain.model import UserId


class InMemoryLinkedIdentityStore:
    def __init__(self, identities: dict[UserId, LinkedIdentity]) -> None:
        self._identities = identities

    async def add(self, identity: LinkedIdentity) -> bool:
        if await self.by_subject(identity.provider, identity.subject) is not None:
            return False
        self._identities[identity.id] = identity
        return True

    async def by_subject(self, provider: str, subject: str) -> LinkedIdentity | None:
        return next(
            (
                identity
                for identity in self._identities.values()
                if (identity.provider, identity.subject) == (provider, subject)
            ),
            None,
        )

    async def for_user(self, user_id: UserId) -> list[LinkedIdentity]:
        owned = [i for i in self._identities.values() if i.user_id == user_id]
        return sorted(owned, key=lambda i: (i.created_at, i.id))

    async def delete(self, identity_id: UserId) -> bool:
        return self._identities.pop(identity_id, None) is not None


class InMemoryFederationRequestStore:
    def __init__(self, requests: dict[str, FederationRequest]) -> None:
        self._requests = requests

    async def add(self, request: FederationRequest) -> None:
        self._requests[request.digest] = request

    async def take(self, digest: str, at: datetime) -> FederationRequest | None:
        request = self._requests.pop(digest, None)
        return request if request is not None and request.expires_at > at else None

    async def purge_expired(self, now: datetime) -> int:
        expired = [key for key, r in self._requests.items() if r.expires_at <= now]
        for key in expired:
            del self._requests[key]
        return len(expired)
