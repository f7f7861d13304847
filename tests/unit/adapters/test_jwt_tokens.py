"""The JWT adapter in the unit tier: the claims it reads out of a token it accepts, and for
each token it refuses, the reason it gives (``context["reason"]``, what the log shows of an
InvalidToken: the client only ever sees INVALID_TOKEN). Asserting the reason also proves
that each refusal below happens for the one thing its token changes.

Tokens are signed here with PyJWT, claim by claim, like the service's own (the first test
is the control). The clock stands in 2090, far ahead of the machine's: times must be judged
by the injected clock alone. (The contract tier proves the TokenService port itself.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import REQUIRED_CLAIMS, JwtTokenService
from neodyme_domain.errors import InvalidToken
from neodyme_domain.tokens.model import AccessClaims, RefreshClaims
from tests.unit.conftest import TEST_JWT_SECRET

NOW = datetime(2090, 1, 1, 12, tzinfo=UTC)
ISSUED = int(NOW.timestamp())
SUBJECT = uuid.UUID("6f2b6c1e-3f0a-4d7e-9a53-2c1d0e9b8a71")
LEEWAY = timedelta(seconds=10)
REFRESH = {"type": "refresh", "fam": "family-1", "permissions": None, "ver": None, "sid": None}
"""Changes that make the access token below a refresh token (None: the claim is left out)."""


def service(clock: ManualClock | None = None, **options: Any) -> JwtTokenService:
    return JwtTokenService(secret=TEST_JWT_SECRET, clock=clock or ManualClock(NOW), **options)


def signed(key: str = TEST_JWT_SECRET, **changes: Any) -> str:
    """An access token as the service issues one at NOW, but for ``changes`` (a claim set
    to None is left out)."""
    claims = {
        "sub": str(SUBJECT),
        "type": "access",
        "jti": "token-1",
        "permissions": ["users:read:self"],
        "ver": 3,
        "sid": "session-1",
        "iss": "neodyme",
        "aud": "neodyme-api",
        "iat": ISSUED,
        "exp": ISSUED + 900,
    } | changes
    payload = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(payload, key, algorithm="HS256")


def reason(decode: Callable[[str], object], token: str) -> str | None:
    """Why ``decode`` refuses ``token`` (it must refuse it with InvalidToken)."""
    with pytest.raises(InvalidToken) as refused:
        decode(token)
    return refused.value.context.get("reason")


def test_a_token_like_the_services_own_is_read_claim_by_claim() -> None:
    tokens = service()

    assert tokens.decode_access(signed()) == AccessClaims(
        user_id=SUBJECT,
        permissions=("users:read:self",),
        token_id="token-1",
        expires_at=NOW + timedelta(seconds=900),
        issued_at=NOW,
        token_version=3,
        session_id="session-1",
    )
    assert tokens.decode_refresh(signed(**REFRESH)) == RefreshClaims(
        user_id=SUBJECT,
        family_id="family-1",
        token_id="token-1",
        expires_at=NOW + timedelta(seconds=900),
    )


REFUSALS: dict[str, tuple[dict[str, Any], str | None]] = {
    # changes to the token: the reason of its refusal (None: refused, with no reason given)
    "a refresh token used for access": (REFRESH, "wrong type"),
    "an unknown type": ({"type": "id"}, "wrong type"),
    "issued a second ahead": ({"iat": ISSUED + 1}, "not yet valid"),
    "not before a second ahead": ({"nbf": ISSUED + 1}, "not yet valid"),
    "expiring now": ({"exp": ISSUED}, "expired"),
    "a subject that is no id": ({"sub": "42"}, "bad subject"),
    "an expiry past year 9999": ({"exp": 10**30}, "bad time claim"),
    "an expiry far past year 9999": ({"exp": 1e300}, "bad time claim"),
    "no token version": ({"ver": None}, "no token version"),
    "a text token version": ({"ver": "3"}, "no token version"),
    "a boolean token version": ({"ver": True}, "no token version"),
    "no session id": ({"sid": None}, "bad session id"),
    "a numeric session id": ({"sid": 7}, "bad session id"),
    "an empty session id": ({"sid": ""}, "bad session id"),
    "a session id list": ({"sid": ["session-1"]}, "bad session id"),
    "a permission that is no text": ({"permissions": ["users:read:self", 1]}, None),
    "permissions as one text": ({"permissions": "users:read:self"}, None),
    "another issuer": ({"iss": "someone-else"}, "InvalidIssuerError"),
    "another audience": ({"aud": "another-api"}, "InvalidAudienceError"),
    **{f"no {claim}": ({claim: None}, "MissingRequiredClaimError") for claim in REQUIRED_CLAIMS},
    **{
        f"{claim} {value!r}": ({claim: value}, "expired" if claim == "exp" else "not yet valid")
        for claim in ("iat", "nbf", "exp")
        for value in ("soon", True, float("nan"), float("inf"))
    },
}


@pytest.mark.parametrize(("changes", "why"), REFUSALS.values(), ids=REFUSALS.keys())
def test_an_access_token_is_refused_for_the_one_thing_that_is_wrong(
    changes: dict[str, Any], why: str | None
) -> None:
    assert reason(service().decode_access, signed(**changes)) == why


@pytest.mark.parametrize("family", ["", 7, None], ids=repr)
def test_a_refresh_token_without_a_family_is_refused(family: Any) -> None:
    assert reason(service().decode_refresh, signed(**REFRESH | {"fam": family})) is None


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("not a token", "DecodeError"),
        (signed(key="another-key-of-the-same-length-0123456789abc"), "InvalidSignatureError"),
        (
            signed().rsplit(".", 1)[0] + "." + signed(jti="2").rsplit(".", 1)[1],
            "InvalidSignatureError",
        ),
    ],
    ids=["garbage", "another key", "another token's signature"],
)
def test_a_token_that_is_not_ours_is_refused_with_pyjwts_reason(token: str, why: str) -> None:
    tokens = service()

    assert reason(tokens.decode_access, token) == why
    assert reason(tokens.decode_refresh, token) == why


def test_the_leeway_accepts_a_token_that_early_and_that_late_and_no_more() -> None:
    clock = ManualClock(NOW)
    decode = service(clock, leeway=LEEWAY).decode_access
    early = signed(iat=ISSUED + 10, nbf=ISSUED + 10, exp=ISSUED + 20)

    decode(early)  # 10 s before it starts: the leeway
    assert reason(decode, signed(iat=ISSUED + 11)) == "not yet valid"
    assert reason(decode, signed(nbf=ISSUED + 11)) == "not yet valid"
    clock.advance(timedelta(seconds=19))
    decode(early)  # a second before it expires
    clock.advance(timedelta(seconds=10))
    decode(early)  # 9 s after
    clock.advance(timedelta(seconds=1))
    assert reason(decode, early) == "expired"


def test_a_negative_leeway_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^leeway must not be negative$"):
        service(leeway=timedelta(seconds=-1))
