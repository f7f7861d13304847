"""How a page answers: a template, the same template refusing a form, or a redirect; each
with the security headers (security_headers.py), so no page response goes without them.
And the templates' configuration (Jinja2, autoescaping on), for the app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import MediaType, Request
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig

from neodyme_app.http.errors import status_of
from neodyme_app.pages.security_headers import csp_nonce, security_headers
from neodyme_domain.errors import DomainError, RetryLater

AnyRequest = Request[Any, Any, Any]
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def render(
    request: AnyRequest,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    cookies: Iterable[Cookie] = (),
    **context: Any,
) -> Template:
    """``template`` with ``context``; every template may show ``success`` (role=status)
    and ``alert`` (role=alert), and puts ``csp_nonce`` on its script tag."""
    return Template(
        template_name=template,
        context={"csp_nonce": csp_nonce(request), **context},
        status_code=status,
        media_type=MediaType.HTML,
        headers={**security_headers(request), **(headers or {})},
        cookies=list(cookies),
    )


def refusal(exc: DomainError) -> dict[str, Any]:
    """What a page shows for a use case's refusal: its message, with the status the API
    answers it with (and ``Retry-After`` when it says when to try again); ``render``'s
    keywords."""
    retry = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RetryLater) else None
    return {"status": status_of(exc), "headers": retry, "alert": exc.message}


def refused(request: AnyRequest, template: str, exc: DomainError, **context: Any) -> Template:
    """The form again, with the refusal of its use case."""
    return render(request, template, **refusal(exc), **context)


def see_other(request: AnyRequest, path: str, cookies: Iterable[Cookie] = ()) -> Redirect:
    """303: after a form, the browser GETs ``path`` (a reload does not post it again)."""
    return Redirect(path, status_code=303, headers=security_headers(request), cookies=list(cookies))


def moment(value: datetime) -> str:
    """A time as pages show it (``| moment``): to the minute, in UTC, as the server knows
    no visitor's time zone."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _add_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["moment"] = moment


def templates() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_add_filters
    )
