"""/api/v1/users: profiles, one's own account and history, administration."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from neodyme_app.http.dependencies import AUTHENTICATED, ContainerDep, CurrentUser, Origin
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import (
    ACCEPTED,
    Accepted,
    AccountStatusBody,
    DeleteAccountBody,
    EmailChangeBody,
    EventPage,
    ProfileBody,
    UserOut,
    UserPage,
)
from neodyme_domain.accounts.request_email_change import EmailChangeRequest
from neodyme_domain.errors import ValidationFailed
from neodyme_domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from neodyme_domain.use_cases import (
    DeleteAccountCommand,
    GetUserQuery,
    ListUsersQuery,
    SecurityEventsQuery,
    SetUserActiveCommand,
    UpdateProfileCommand,
)

ADMIN_ERRORS = ("FORBIDDEN", "USER_NOT_FOUND")

Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Items per page (default 50).")
]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The ``next_cursor`` of the previous page; none for the first."),
]
UserId = Annotated[str, PathParameter(format="uuid", description="The user's id (a UUID).")]


def parse_user_id(raw: str, parameter: str = "user_id") -> uuid.UUID:
    """A malformed id is a 422 naming the parameter, not a 404 for a route that exists."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed(parameter, "is not a valid UUID") from None


class UsersController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    dependencies = AUTHENTICATED

    @get("/", responses=documented_errors("FORBIDDEN"))
    async def list_users(
        self,
        current_user: CurrentUser,
        container: ContainerDep,
        limit: Limit = DEFAULT_PAGE_SIZE,
        cursor: Cursor = None,
    ) -> UserPage:
        """Superusers: every account, oldest first; follow ``next_cursor`` until null."""
        query = ListUsersQuery(current_user, PageRequest(limit, cursor))
        return UserPage.of(await container.list_users()(query))

    @patch("/me")
    async def update_me(
        self,
        data: JSONBody[ProfileBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> UserOut:
        """Only ``full_name`` can be set here; any other field is refused with 422."""
        command = UpdateProfileCommand(current_user, data.full_name, origin)
        return UserOut.of(await container.update_profile()(command))

    @delete("/me", status_code=204, responses=documented_errors("INVALID_CREDENTIALS"))
    async def delete_me(
        self,
        data: JSONBody[DeleteAccountBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> None:
        """Delete the account (password required); its address can be registered again."""
        await container.delete_account()(DeleteAccountCommand(current_user, data.password, origin))

    @post(
        "/me/email",
        status_code=202,
        responses=documented_errors("INVALID_CREDENTIALS", "EMAIL_ALREADY_EXISTS"),
    )
    async def change_my_email(
        self,
        data: JSONBody[EmailChangeBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> Accepted:
        """Change the address (password required): a link goes to the new address, a
        notice to the old one; nothing changes until the link is followed."""
        request = EmailChangeRequest(current_user, data.new_email, data.password, origin)
        await container.request_email_change()(request)
        return ACCEPTED

    @get("/me/events")
    async def my_events(
        self,
        current_user: CurrentUser,
        container: ContainerDep,
        limit: Limit = DEFAULT_PAGE_SIZE,
        cursor: Cursor = None,
    ) -> EventPage:
        """Your security history, newest first: logins (failed ones too), password changes,
        resets, verification, sessions ended, with the address and user agent of each."""
        query = SecurityEventsQuery(current_user, PageRequest(limit, cursor))
        return EventPage.of(await container.list_security_events()(query))

    @get("/{user_id:str}", responses=documented_errors(*ADMIN_ERRORS))
    async def get_user(
        self, user_id: UserId, current_user: CurrentUser, container: ContainerDep
    ) -> UserOut:
        """Your own profile, or anyone's for a superuser; FORBIDDEN for other ids whether
        or not they exist."""
        query = GetUserQuery(requester=current_user, user_id=parse_user_id(user_id))
        return UserOut.of(await container.get_user()(query))

    @patch("/{user_id:str}", responses=documented_errors(*ADMIN_ERRORS))
    async def set_status(
        self,
        user_id: UserId,
        data: JSONBody[AccountStatusBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> UserOut:
        """Superusers: deactivate (effective at once: tokens refused, login refused) or
        reactivate an account."""
        target = parse_user_id(user_id)
        if data.is_active is None:
            return UserOut.of(await container.get_user()(GetUserQuery(current_user, target)))
        command = SetUserActiveCommand(current_user, target, data.is_active, origin)
        return UserOut.of(await container.set_user_active()(command))
