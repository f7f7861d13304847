"""Errors on the pages answer as pages, never as the API's JSON and never with a trace.

A page handler answers the refusals of its own use cases itself (the form again, with the
message). What is left arrives here: a visitor who is not signed in goes to /login; a
form without its CSRF token gets a 403 page; anything else gets the API's own answer to
that error (http/errors.py: the status, the message, ``Retry-After``, the log line of an
unexpected error with its request id) shown as a page.
"""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.exceptions import PermissionDeniedException
from litestar.types import ExceptionHandlersMap

from neodyme_app.http.errors import EXCEPTION_HANDLERS
from neodyme_app.http.schemas import ErrorEnvelope
from neodyme_app.pages.page_session import NotSignedIn
from neodyme_app.pages.rendering import AnyRequest, render, see_other

ERROR_PAGE = "error.html"


def to_login(request: AnyRequest, _: NotSignedIn) -> Response[Any]:
    return see_other(request, "/login")


def csrf_refused(request: AnyRequest, _: PermissionDeniedException) -> Response[Any]:
    """Raised by Litestar's CSRF middleware only: no page has guards."""
    return render(
        request,
        ERROR_PAGE,
        status=403,
        title="Form refused",
        alert="This form was refused: it is out of date or did not come from this site."
        " Go back, reload the page and try again.",
    )


def as_page(request: AnyRequest, exc: Exception) -> Response[Any]:
    """The API's answer to ``exc``, as a page."""
    api_handler = next(
        EXCEPTION_HANDLERS[kind] for kind in type(exc).__mro__ if kind in EXCEPTION_HANDLERS
    )
    answer = api_handler(request, exc)
    envelope: ErrorEnvelope = answer.content
    status = answer.status_code or 500  # always set by http/errors.py
    retry_after = answer.headers.get("Retry-After")
    return render(
        request,
        ERROR_PAGE,
        status=status,
        headers={"Retry-After": retry_after} if retry_after else None,
        title="Something went wrong" if status >= 500 else "Request refused",
        alert=envelope.error.message,
    )


PAGE_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    # Every key of the API's map, so that none of its JSON handlers is closer to the error.
    **dict.fromkeys(EXCEPTION_HANDLERS, as_page),
    NotSignedIn: to_login,
    PermissionDeniedException: csrf_refused,
}
