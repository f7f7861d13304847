"""A user's own security history: what happened to the account, from where."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.messages import SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.pagination import FIRST_PAGE, Page, PageRequest, Position, page_of
from neodyme_domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class SecurityEventsQuery:
    user: User
    page: PageRequest = FIRST_PAGE


def event_position(event: SecurityEvent) -> Position:
    return Position(event.occurred_at, event.id)


class ListSecurityEvents:
    """Newest first. Failed logins against the account are included: seeing them is how a
    user notices that someone is guessing their password."""

    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, query: SecurityEventsQuery) -> Page[SecurityEvent]:
        limit, before = query.page.checked()
        async with self._uow as uow:
            rows = await uow.events.list_for_user(
                query.user.id,
                before,
                limit + 1,  # pragma: no mutate (equivalent: page_of drops rows past limit)
            )
        return page_of(rows, limit, event_position)
