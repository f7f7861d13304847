"""/api/v1/auth: register, log in, refresh, and who am I."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import JSONBody

from neodyme_app.http.dependencies import ContainerDep, CurrentUser, Origin, provide_current_user
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import (
    LoginBody,
    RefreshBody,
    RegisterBody,
    SessionOut,
    TokenPairOut,
    UserOut,
)
from neodyme_domain.use_cases import AuthenticateCommand, RefreshCommand, RegisterCommand

NO_STORE = {"Cache-Control": "no-store"}
"""Token responses must not be cached by browsers or proxies (RFC 6749, 5.1)."""


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=201,
        response_headers=NO_STORE,
        responses=documented_errors("WEAK_PASSWORD", "EMAIL_ALREADY_EXISTS", "BAD_REQUEST"),
    )
    async def register(
        self, data: JSONBody[RegisterBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        """Create an account; answers with a session so the client is logged in at once."""
        result = await container.register_user()(
            RegisterCommand(data.email, data.full_name, data.password, origin=origin)
        )
        return SessionOut.of(result.user, result.tokens)

    @post(
        "/login",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CREDENTIALS", "ACCOUNT_INACTIVE", "BAD_REQUEST"),
    )
    async def login(
        self, data: JSONBody[LoginBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        result = await container.authenticate_user()(
            AuthenticateCommand(data.email, data.password, origin=origin)
        )
        return SessionOut.of(result.user, result.tokens)

    @post(
        "/refresh",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_TOKEN", "TOKEN_REUSED", "BAD_REQUEST"),
    )
    async def refresh(
        self, data: JSONBody[RefreshBody], container: ContainerDep, origin: Origin
    ) -> TokenPairOut:
        """Rotate: the presented refresh token is spent; presenting it again revokes the
        whole session family."""
        pair = await container.refresh_tokens()(RefreshCommand(data.refresh_token, origin))
        return TokenPairOut.of(pair)

    @get(
        "/me",
        dependencies={"current_user": Provide(provide_current_user)},
        responses=documented_errors("NOT_AUTHENTICATED", "INVALID_TOKEN"),
    )
    async def me(self, current_user: CurrentUser) -> UserOut:
        return UserOut.of(current_user)
