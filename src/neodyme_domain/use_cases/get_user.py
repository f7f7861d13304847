"""Read one user's profile: your own, or anyone's if you are a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import Forbidden, UserNotFound
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class GetUserQuery:
    requester: User
    user_id: UserId


class GetUser:
    """A non-superuser asking for another id gets FORBIDDEN whether or not that id exists,
    so the endpoint cannot be used to probe which ids are real."""

    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: GetUserQuery) -> User:
        requester = query.requester
        if query.user_id == requester.id:
            return requester
        if not requester.is_superuser:
            raise Forbidden(context={"requester": requester.id, "target": query.user_id})
        async with self._uow as uow:
            user = await uow.users.get(query.user_id)
        if user is None:
            raise UserNotFound(context={"user_id": query.user_id})
        return user
