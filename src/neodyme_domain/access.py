"""Who may act on whose account: oneself, or a superuser on anyone."""

from __future__ import annotations

from neodyme_domain.errors import Forbidden, UserNotFound
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import UnitOfWork


async def target_user(uow: UnitOfWork, requester: User, user_id: UserId) -> User:
    """The account ``requester`` asks to act on. A non-superuser asking for another id gets
    FORBIDDEN whether or not that id exists, so no endpoint can probe which ids are real."""
    if user_id == requester.id:
        return requester
    if not requester.is_superuser:
        raise Forbidden(context={"requester": requester.id, "target": user_id})
    user = await uow.users.get(user_id)
    if user is None:
        raise UserNotFound(context={"user_id": user_id})
    return user
