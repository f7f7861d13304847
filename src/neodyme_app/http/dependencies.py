"""What handlers receive besides their body: the container, the caller, where it came from."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from neodyme_app.container import Container
from neodyme_app.http.client_address import client_address
from neodyme_app.http.errors import ApiError
from neodyme_domain.errors import InvalidToken
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.model import User
from neodyme_domain.use_cases import CurrentUserQuery
from neodyme_domain.use_cases.get_current_user import CurrentSession

MAX_USER_AGENT = 512

# Explicit dependency markers; validation is skipped because these are our own objects,
# not client input.
ContainerDep = NamedDependency[SkipValidation[Container]]
CurrentUser = NamedDependency[SkipValidation[User]]
SignedIn = NamedDependency[SkipValidation[CurrentSession]]
Origin = NamedDependency[SkipValidation[RequestOrigin]]


def provide_container(state: State) -> Container:
    container: Container = state.container
    return container


def provide_origin(request: Request[Any, Any, Any], container: ContainerDep) -> RequestOrigin:
    """The client address (the socket peer, or what trusted proxies forwarded: see
    ``client_address``) and user agent, for the audit trail and login throttling."""
    agent = request.headers.get("user-agent")
    return RequestOrigin(
        client_ip=client_address(
            request.client.host if request.client else None,
            request.headers.getall("x-forwarded-for", []),
            container.trusted_proxies(),
        ),
        user_agent=agent[:MAX_USER_AGENT] if agent else None,
    )


def _bearer_token(request: Request[Any, Any, Any]) -> CurrentUserQuery:
    """From an ``Authorization: Bearer`` header only (a token in a query string would end
    up in access logs and browser history)."""
    header = request.headers.get("authorization")
    if not header:
        raise ApiError("NOT_AUTHENTICATED", "Not authenticated")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken()
    return CurrentUserQuery(token.strip())


async def provide_current_user(request: Request[Any, Any, Any], container: ContainerDep) -> User:
    """The authenticated user."""
    return await container.get_current_user()(_bearer_token(request))


async def provide_signed_in(
    request: Request[Any, Any, Any], container: ContainerDep
) -> CurrentSession:
    """The authenticated user and the session of their access token."""
    return await container.get_current_user().with_session(_bearer_token(request))


AUTHENTICATED = {"current_user": Provide(provide_current_user)}
"""Route or controller dependencies for endpoints that need a logged-in user."""

SIGNED_IN = {"signed_in": Provide(provide_signed_in)}
"""The same, for endpoints that also need the caller's session (``signed_in``)."""
