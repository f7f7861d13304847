"""/api/v1/users/.../sessions: the sign-ins of an account, seen and ended by their owner
(``me``) or by a superuser (any user id)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get
from litestar.params import PathParameter

from neodyme_app.http.dependencies import SIGNED_IN, ContainerDep, Origin, SignedIn
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import SessionList
from neodyme_app.http.users_controller import ADMIN_ERRORS, UserId, parse_user_id
from neodyme_domain.sessions.end_other_sessions import EndOtherSessionsCommand
from neodyme_domain.sessions.end_session import EndSessionCommand
from neodyme_domain.sessions.list_sessions import SessionsQuery

SessionId = Annotated[str, PathParameter(max_length=64, description="The session's id.")]


class SessionsController(Controller):
    path = "/api/v1/users"
    tags = ["sessions"]
    dependencies = SIGNED_IN

    @get("/me/sessions")
    async def my_sessions(self, signed_in: SignedIn, container: ContainerDep) -> SessionList:
        """Your live sessions, most recently used first; ``current`` marks this one."""
        query = SessionsQuery(signed_in.user, signed_in.user.id, signed_in.session_id)
        return SessionList.of(await container.list_sessions()(query))

    @delete(
        "/me/sessions/{session_id:str}",
        status_code=204,
        responses=documented_errors("SESSION_NOT_FOUND"),
    )
    async def end_my_session(
        self, session_id: SessionId, signed_in: SignedIn, container: ContainerDep, origin: Origin
    ) -> None:
        """End one of your sessions: its refresh token dies, its access tokens are refused
        from the next request on. Ending the current one signs you out."""
        user = signed_in.user
        await container.end_session()(EndSessionCommand(user, user.id, session_id, origin))

    @delete("/me/sessions", status_code=204)
    async def end_my_other_sessions(
        self, signed_in: SignedIn, container: ContainerDep, origin: Origin
    ) -> None:
        """Sign out everywhere else: every session but this one ends."""
        user = signed_in.user
        command = EndOtherSessionsCommand(user, user.id, signed_in.session_id, origin)
        await container.end_other_sessions()(command)

    @get("/{user_id:str}/sessions", responses=documented_errors(*ADMIN_ERRORS))
    async def user_sessions(
        self, user_id: UserId, signed_in: SignedIn, container: ContainerDep
    ) -> SessionList:
        """Superusers: a user's live sessions (your own for your own id)."""
        query = SessionsQuery(signed_in.user, parse_user_id(user_id), signed_in.session_id)
        return SessionList.of(await container.list_sessions()(query))

    @delete(
        "/{user_id:str}/sessions/{session_id:str}",
        status_code=204,
        responses=documented_errors(*ADMIN_ERRORS, "SESSION_NOT_FOUND"),
    )
    async def end_user_session(
        self,
        user_id: UserId,
        session_id: SessionId,
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> None:
        """Superusers: end one session of a user (recorded as ended ``by: admin``)."""
        command = EndSessionCommand(signed_in.user, parse_user_id(user_id), session_id, origin)
        await container.end_session()(command)

    @delete("/{user_id:str}/sessions", status_code=204, responses=documented_errors(*ADMIN_ERRORS))
    async def end_user_sessions(
        self, user_id: UserId, signed_in: SignedIn, container: ContainerDep, origin: Origin
    ) -> None:
        """Superusers: sign a user out everywhere (every session of theirs ends, the
        caller's own too when the id is the caller's)."""
        command = EndOtherSessionsCommand(signed_in.user, parse_user_id(user_id), None, origin)
        await container.end_other_sessions()(command)
