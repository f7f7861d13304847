"""Re-reading the user inside a write transaction.

Use cases hash passwords outside transactions (tens of milliseconds). The user they read
before may be stale by the time they write: writing it back would undo what committed
meanwhile. They re-read it, and give up if its sessions were revoked in between.
"""

from __future__ import annotations

from neodyme_domain.errors import InvalidToken
from neodyme_domain.model import User
from neodyme_domain.ports import UnitOfWork


async def fresh_copy(uow: UnitOfWork, seen: User) -> User:
    current = await uow.users.get(seen.id)
    if current is None or not current.is_active or current.token_version != seen.token_version:
        raise InvalidToken(context={"user_id": seen.id, "reason": "changed meanwhile"})
    return current
