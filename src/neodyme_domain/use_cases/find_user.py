"""Administration: look an account up by its e-mail address."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import Forbidden, UserNotFound
from neodyme_domain.model import Email, User
from neodyme_domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class FindUserQuery:
    requester: User
    email: str


class FindUserByEmail:
    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: FindUserQuery) -> User:
        if not query.requester.is_superuser:
            raise Forbidden(context={"requester": query.requester.id, "action": "find user"})
        email = Email.parse(query.email)
        async with self._uow as uow:
            user = await uow.users.get_by_email(email)
        if user is None:
            raise UserNotFound(f"No user with email {email.value}")
        return user
