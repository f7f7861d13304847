"""/api/v1/auth/passkeys (the two WebAuthn ceremonies) and /api/v1/users/me/passkeys
(the passkeys a user holds).

Each ceremony is two requests: ``options`` (what ``navigator.credentials.create()`` or
``.get()`` needs, with a challenge the server keeps) and ``verify`` (the browser's
answer, as ``PublicKeyCredential.toJSON()`` gives it). The answer carries the challenge
it signed, so ``verify`` needs nothing else from the first request.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from neodyme_app.http.auth_controller import NO_STORE
from neodyme_app.http.dependencies import AUTHENTICATED, ContainerDep, CurrentUser, Origin
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import (
    PasskeyList,
    PasskeyOut,
    PasskeyRegisterBody,
    PasskeyRenameBody,
    PasskeySignInBody,
    PasskeySignInOptionsBody,
    PasswordBody,
    SessionOut,
)
from neodyme_domain.passkeys.add_passkey import PasskeyRegistration
from neodyme_domain.passkeys.begin_registration import PasskeyOptionsRequest
from neodyme_domain.passkeys.begin_sign_in import PasskeySignInRequest
from neodyme_domain.passkeys.remove_passkey import PasskeyRemoval
from neodyme_domain.passkeys.rename_passkey import PasskeyRename
from neodyme_domain.passkeys.sign_in import PasskeySignIn

PasskeyId = Annotated[str, PathParameter(max_length=64, description="The passkey's id.")]

CEREMONY_ERRORS = ("INVALID_CHALLENGE",)


class PasskeysController(Controller):
    path = "/api/v1/auth/passkeys"
    tags = ["passkeys"]

    @post(
        "/register/options",
        status_code=200,
        dependencies=AUTHENTICATED,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CREDENTIALS"),
    )
    async def registration_options(
        self, data: JSONBody[PasswordBody], current_user: CurrentUser, container: ContainerDep
    ) -> dict[str, Any]:
        """Start adding a passkey (the password again): the options for
        ``navigator.credentials.create()``, good for five minutes."""
        request = PasskeyOptionsRequest(current_user, data.password)
        return await container.begin_passkey_registration()(request)

    @post(
        "/register/verify",
        status_code=201,
        dependencies=AUTHENTICATED,
        responses=documented_errors(
            *CEREMONY_ERRORS, "PASSKEY_INVALID", "PASSKEY_ALREADY_REGISTERED"
        ),
    )
    async def register(
        self,
        data: JSONBody[PasskeyRegisterBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> PasskeyOut:
        """Finish adding a passkey with the authenticator's answer; the owner is told by
        e-mail."""
        registration = PasskeyRegistration(current_user, data.credential, data.name, origin)
        return PasskeyOut.of(await container.add_passkey()(registration))

    @post("/login/options", status_code=200, responses=documented_errors("INVALID_TOKEN"))
    async def sign_in_options(
        self, data: JSONBody[PasskeySignInOptionsBody], container: ContainerDep
    ) -> dict[str, Any]:
        """Start signing in with a passkey: the options for
        ``navigator.credentials.get()``. Without ``mfa_token`` they name no account (the
        authenticator offers its passkeys for this site); with it, the passkeys of the
        login waiting for its second factor."""
        return await container.begin_passkey_sign_in()(PasskeySignInRequest(data.mfa_token))

    @post(
        "/login/verify",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors(
            *CEREMONY_ERRORS, "PASSKEY_REFUSED", "INVALID_TOKEN", "ACCOUNT_INACTIVE"
        ),
    )
    async def sign_in(
        self, data: JSONBody[PasskeySignInBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        """Sign in with the authenticator's answer: a token pair, as a login gives (or as
        ``/auth/mfa/verify`` gives, for a login's second factor)."""
        signed_in = await container.sign_in_with_passkey()(PasskeySignIn(data.credential, origin))
        return SessionOut.of(signed_in.user, signed_in.tokens)


class MyPasskeysController(Controller):
    path = "/api/v1/users/me/passkeys"
    tags = ["passkeys"]
    dependencies = AUTHENTICATED

    @get("/")
    async def my_passkeys(self, current_user: CurrentUser, container: ContainerDep) -> PasskeyList:
        """Your passkeys, oldest first."""
        return PasskeyList.of(await container.list_passkeys()(current_user))

    @patch("/{passkey_id:str}", responses=documented_errors("PASSKEY_NOT_FOUND"))
    async def rename(
        self,
        passkey_id: PasskeyId,
        data: JSONBody[PasskeyRenameBody],
        current_user: CurrentUser,
        container: ContainerDep,
    ) -> PasskeyOut:
        """Rename one of your passkeys."""
        renamed = await container.rename_passkey()(
            PasskeyRename(current_user, passkey_id, data.name)
        )
        return PasskeyOut.of(renamed)

    @delete(
        "/{passkey_id:str}",
        status_code=204,
        responses=documented_errors("PASSKEY_NOT_FOUND", "LAST_SIGN_IN_METHOD"),
    )
    async def remove(
        self,
        passkey_id: PasskeyId,
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> None:
        """Remove one of your passkeys: it signs in no more; you are told by e-mail."""
        await container.remove_passkey()(PasskeyRemoval(current_user, passkey_id, origin))
