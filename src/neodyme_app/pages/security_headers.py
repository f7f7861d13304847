"""The headers of every page response: a Content-Security-Policy with a fresh nonce, and
no sniffing, no referrer, no caching.

The policy allows no inline script or style at all: the one script a page may load
carries the request's nonce (``nonce="{{ csp_nonce }}"`` in its template), styles come
from /static only. ``frame-ancestors 'none'`` keeps the forms out of other sites' frames
(clickjacking), ``form-action 'self'`` keeps an injected form from posting elsewhere.
Pages show tokens, secrets and personal data, so no browser or proxy may keep a copy.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request

NONCE_BYTES = 16


def csp_nonce(request: Request[Any, Any, Any]) -> str:
    """This request's nonce: made on first use, then the same for the template and the
    header."""
    nonce: str | None = request.state.get("csp_nonce")
    if nonce is None:
        nonce = request.state.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def security_headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src 'nonce-{csp_nonce(request)}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
