"""/api/v1/users: profiles."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import FromPath

from neodyme_app.http.dependencies import ContainerDep, CurrentUser, provide_current_user
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import UserOut
from neodyme_domain.errors import ValidationFailed
from neodyme_domain.use_cases import GetUserQuery


def parse_user_id(raw: str) -> uuid.UUID:
    """A malformed id is a 422 naming the parameter, not a 404 for a route that exists."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed("user_id", "is not a valid UUID") from None


class UsersController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    dependencies = {"current_user": Provide(provide_current_user)}

    @get(
        "/{user_id:str}",
        responses=documented_errors(
            "NOT_AUTHENTICATED", "INVALID_TOKEN", "FORBIDDEN", "USER_NOT_FOUND"
        ),
    )
    async def get_user(
        self, user_id: FromPath[str], current_user: CurrentUser, container: ContainerDep
    ) -> UserOut:
        """Your own profile, or anyone's for a superuser; FORBIDDEN for other ids whether
        or not they exist."""
        query = GetUserQuery(requester=current_user, user_id=parse_user_id(user_id))
        return UserOut.of(await container.get_user()(query))
