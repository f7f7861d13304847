"""The "Sessions" section of /account: end one of the other sessions, or all of them.

The session of this browser has no "End" button: "Sign out" ends it.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, post

from neodyme_app.http.dependencies import ContainerDep, Origin, SignedIn
from neodyme_app.http.sessions_controller import SessionId
from neodyme_app.pages.account_page import SIGNED_IN_PAGE, account_page, refused_in
from neodyme_app.pages.rendering import AnyRequest
from neodyme_domain.errors import DomainError
from neodyme_domain.sessions.end_other_sessions import EndOtherSessionsCommand
from neodyme_domain.sessions.end_session import EndSessionCommand

SECTION = "sessions"


class SessionsPages(Controller):
    path = "/account/sessions"
    include_in_schema = False
    dependencies = SIGNED_IN_PAGE

    @post("/{session_id:str}/end")
    async def end_session(
        self,
        request: AnyRequest,
        session_id: SessionId,
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        user = signed_in.user
        try:
            await container.end_session()(EndSessionCommand(user, user.id, session_id, origin))
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request, container, signed_in, section=SECTION, success="Session ended"
        )

    @post("/end-others")
    async def end_other_sessions(
        self, request: AnyRequest, signed_in: SignedIn, container: ContainerDep, origin: Origin
    ) -> Any:
        user = signed_in.user
        command = EndOtherSessionsCommand(user, user.id, signed_in.session_id, origin)
        try:
            await container.end_other_sessions()(command)
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request,
            container,
            signed_in,
            section=SECTION,
            success="Session ended: every other device is signed out",
        )
