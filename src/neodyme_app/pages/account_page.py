"""GET /account: the signed-in visitor's account, one section per capability (profile,
password, e-mail, two-factor sign-in, passkeys, sign-in providers, sessions, security
history, deletion).

The forms of the sections post to their capability's pages (accounts_pages.py,
mfa_pages.py, sessions_pages.py), which answer with this page again: the account as it
is after the change, the outcome shown in the section the form belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from litestar import Controller, get
from litestar.di import Provide
from litestar.response import Template

from neodyme_app.container import Container
from neodyme_app.http.dependencies import ContainerDep, SignedIn
from neodyme_app.pages.page_session import signed_in, take_notice
from neodyme_app.pages.rendering import AnyRequest, refusal, render, see_other
from neodyme_domain.errors import DomainError
from neodyme_domain.pagination import PageRequest
from neodyme_domain.sessions.list_sessions import SessionsQuery
from neodyme_domain.use_cases import SecurityEventsQuery
from neodyme_domain.use_cases.get_current_user import CurrentSession

ACCOUNT_PAGE = "account.html"
HISTORY_LENGTH = 20

SIGNED_IN_PAGE = {"signed_in": Provide(signed_in)}
"""Dependencies of a page for signed-in visitors only (the others go to /login)."""

EVENT_WORDS: Mapping[str, str] = {
    "user_registration": "Account created",
    "user_login": "Signed in",
    "login_failed": "Failed sign-in",
    "logout": "Signed out",
    "session_ended": "Session ended",
    "refresh_token_reused": "Session ended: a stolen token was used",
    "password_changed": "Password changed",
    "password_reset_requested": "Password reset requested",
    "password_reset": "Password reset",
    "verification_requested": "Verification link requested",
    "email_verified": "E-mail address verified",
    "email_change_requested": "E-mail change requested",
    "email_changed": "E-mail address changed",
    "profile_updated": "Profile changed",
    "mfa_enabled": "Two-factor sign-in turned on",
    "mfa_disabled": "Two-factor sign-in turned off",
    "mfa_failed": "Wrong two-factor code",
    "recovery_code_used": "Recovery code used",
    "recovery_codes_regenerated": "New recovery codes made",
    "passkey_added": "Passkey added",
    "passkey_removed": "Passkey removed",
    "passkey_counter_regressed": "Passkey refused: it may have been copied",
    "identity_linked": "Sign-in provider linked",
    "identity_unlinked": "Sign-in provider unlinked",
    "user_activated": "Account reactivated",
    "user_deactivated": "Account deactivated",
}
"""Security events in plain words; a type missing here is shown as it is."""


class HistoryLine(NamedTuple):
    what: str
    at: datetime
    address: str | None


async def account_page(
    request: AnyRequest,
    container: Container,
    visitor: CurrentSession,
    *,
    section: str | None = None,
    **context: Any,
) -> Template:
    """The page; ``section`` (its id) is where ``success`` or ``alert`` of ``context`` show,
    the top of the page when none."""
    user = visitor.user
    sessions = await container.list_sessions()(SessionsQuery(user, user.id, visitor.session_id))
    events = await container.list_security_events()(
        SecurityEventsQuery(user, PageRequest(HISTORY_LENGTH))
    )
    passkeys = await container.list_passkeys()(user)
    identities = await container.list_identities()(user)
    history = [
        HistoryLine(EVENT_WORDS.get(event.type, event.type), event.occurred_at, event.client_ip)
        for event in events.items
    ]
    return render(
        request,
        ACCOUNT_PAGE,
        user=user,
        sessions=sessions,
        passkeys=passkeys,
        identities=identities,
        history=history,
        section=section,
        **context,
    )


async def refused_in(
    request: AnyRequest,
    container: Container,
    visitor: CurrentSession,
    section: str,
    exc: DomainError,
    **context: Any,
) -> Template:
    """The account page again, with the refusal of a section's form shown in that section."""
    return await account_page(
        request, container, visitor, section=section, **refusal(exc), **context
    )


class AccountPage(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def home(self, request: AnyRequest) -> Any:
        return see_other(request, "/account")

    @get("/account", dependencies=SIGNED_IN_PAGE)
    async def account(
        self, request: AnyRequest, signed_in: SignedIn, container: ContainerDep
    ) -> Any:
        return await account_page(request, container, signed_in, success=take_notice(request))
