"""Read one user's profile: your own, or anyone's if you are a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.access import target_user
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class GetUserQuery:
    requester: User
    user_id: UserId


class GetUser:
    """Access as ``neodyme_domain.access.target_user`` decides it."""

    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: GetUserQuery) -> User:
        if query.user_id == query.requester.id:
            return query.requester  # no transaction for one's own profile
        async with self._uow as uow:
            return await target_user(uow, query.requester, query.user_id)
