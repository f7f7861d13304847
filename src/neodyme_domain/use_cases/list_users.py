"""Administration: every account, page by page."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import Forbidden
from neodyme_domain.model import User
from neodyme_domain.pagination import FIRST_PAGE, Page, PageRequest, Position, page_of
from neodyme_domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ListUsersQuery:
    requester: User
    page: PageRequest = FIRST_PAGE


def user_position(user: User) -> Position:
    return Position(user.created_at, user.id)


class ListUsers:
    """Oldest first, by (created_at, id): accounts created while a client pages through
    land after its position, so the walk sees every account that existed once."""

    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: ListUsersQuery) -> Page[User]:
        if not query.requester.is_superuser:
            raise Forbidden(context={"requester": query.requester.id, "action": "list users"})
        limit, after = query.page.checked()
        async with self._uow as uow:
            rows = await uow.users.list_after(
                after,
                limit + 1,  # pragma: no mutate (equivalent: page_of drops rows past limit)
            )
        return page_of(rows, limit, user_position)
