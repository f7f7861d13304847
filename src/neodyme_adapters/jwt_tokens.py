"""Access and refresh tokens as JWTs (PyJWT): signed with HS256 and the secret key, or,
given a ``KeyRing``, access tokens signed with its current EdDSA / ES256 key and named by
its ``kid`` (refresh tokens stay HS256: only neodyme reads them, see
``tokens.signing_keys``).

Decoding pins the algorithm (no ``alg: none``, no algorithm confusion), requires every
claim we rely on, checks issuer and audience, and refuses a token of the other type, so an
access token can never be used to refresh and a refresh token never opens an endpoint.
Expiry is checked against the injected clock, the same clock that issued the token, with
a small ``leeway`` for servers whose clocks differ a little (RFC 7519 sections 4.1.4-4.1.6
allow "a small leeway, usually no more than a few minutes"): a token is accepted from
``iat - leeway`` (and ``nbf - leeway`` if it has one) until ``exp + leeway``.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from neodyme_adapters.key_ring import KeyRing
from neodyme_domain.errors import InvalidToken
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import Clock
from neodyme_domain.tokens.model import AccessClaims, RefreshClaims

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "type", "iss", "aud")


class JwtTokenService:
    def __init__(
        self,
        *,
        secret: str,
        clock: Clock,
        issuer: str = "neodyme",
        audience: str = "neodyme-api",
        access_ttl: timedelta = timedelta(minutes=15),
        refresh_ttl: timedelta = timedelta(days=30),
        leeway: timedelta = timedelta(0),
        ring: KeyRing | None = None,
    ) -> None:
        """``leeway`` defaults to none: the app passes ``NEODYME_JWT_LEEWAY``. With a
        ``ring``, access tokens are asymmetric, and one without a ``kid`` the ring
        publishes is refused."""
        if leeway < timedelta(0):
            raise ValueError("leeway must not be negative")
        self._secret = secret
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._leeway = leeway.total_seconds()
        self._ring = ring

    @property
    def access_ttl(self) -> timedelta:
        return self._access_ttl

    @property
    def refresh_ttl(self) -> timedelta:
        return self._refresh_ttl

    def issue_access(self, user: User, now: datetime, session_id: str) -> str:
        return self._encode(
            {
                "sub": str(user.id),
                "type": "access",
                "jti": uuid.uuid4().hex,
                "permissions": list(user.permissions),
                "ver": user.token_version,
                "sid": session_id,
            },
            now,
            now + self._access_ttl,
            asymmetric=self._ring is not None,
        )

    def issue_refresh(
        self, user_id: UserId, family_id: str, token_id: str, now: datetime, expires_at: datetime
    ) -> str:
        return self._encode(
            {"sub": str(user_id), "type": "refresh", "jti": token_id, "fam": family_id},
            now,
            expires_at,
            asymmetric=False,
        )

    def decode_access(self, token: str) -> AccessClaims:
        claims = self._decode(token, "access", asymmetric=self._ring is not None)
        permissions = claims.get("permissions")
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise InvalidToken()
        version = claims.get("ver")
        if type(version) is not int:
            raise InvalidToken(context={"reason": "no token version"})
        session_id = claims.get("sid")
        if not isinstance(session_id, str) or not session_id:
            raise InvalidToken(context={"reason": "bad session id"})
        return AccessClaims(
            user_id=_user_id(claims),
            permissions=tuple(permissions),
            token_id=str(claims["jti"]),
            expires_at=_timestamp(claims["exp"]),
            issued_at=_timestamp(claims["iat"]),
            token_version=version,
            session_id=session_id,
        )

    def decode_refresh(self, token: str) -> RefreshClaims:
        claims = self._decode(token, "refresh", asymmetric=False)
        family = claims.get("fam")
        if not isinstance(family, str) or not family:
            raise InvalidToken()
        return RefreshClaims(
            user_id=_user_id(claims),
            family_id=family,
            token_id=str(claims["jti"]),
            expires_at=_timestamp(claims["exp"]),
        )

    def _encode(
        self,
        claims: dict[str, Any],
        now: datetime,
        expires_at: datetime,
        *,
        asymmetric: bool = False,
    ) -> str:
        payload = {
            **claims,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        if not asymmetric:
            return jwt.encode(payload, self._secret, algorithm=ALGORITHM)
        signer = self._ring.signer(now) if self._ring is not None else None
        if signer is None:  # the server loads a key before it serves (EnsureSigningKey)
            raise RuntimeError("no signing key is loaded")
        return jwt.encode(
            payload, signer.private_key, algorithm=signer.algorithm, headers={"kid": signer.kid}
        )

    def _verifying_key(self, token: str, asymmetric: bool) -> tuple[Any, str]:
        """The key and the one algorithm a token may be checked with: the published key
        its ``kid`` names (so an HS256 token "signed" with a public key cannot pass), or
        the secret."""
        if not asymmetric:
            return self._secret, ALGORITHM
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken(context={"reason": type(exc).__name__}) from exc
        key = None
        if isinstance(kid, str) and self._ring is not None:
            key = self._ring.verifier(kid, self._clock.now())
        if key is None:
            raise InvalidToken(context={"reason": "unknown key"})
        return key, key.algorithm_name

    def _decode(
        self, token: str, expected_type: str, *, asymmetric: bool = False
    ) -> dict[str, Any]:
        key, algorithm = self._verifying_key(token, asymmetric)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                # PyJWT would judge exp, iat and nbf by the wall clock; they are judged below
                # by the injected clock that issued the token, or a clock ahead of the wall
                # (ManualClock in tests and simulations) issues tokens that PyJWT refuses.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(context={"reason": type(exc).__name__}) from exc
        exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", claims["iat"])
        now = self._clock.now().timestamp()
        if claims.get("type") != expected_type:
            raise InvalidToken(context={"reason": "wrong type"})
        if not _is_time(iat) or not _is_time(nbf) or max(iat, nbf) > now + self._leeway:
            raise InvalidToken(context={"reason": "not yet valid"})
        if not _is_time(exp) or exp <= now - self._leeway:
            raise InvalidToken(context={"reason": "expired"})
        return claims


def _is_time(value: Any) -> bool:
    """A NumericDate: a finite number (NaN compares false both ways, so it would pass any
    bound), and not a bool (``True`` is an int in Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _user_id(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise InvalidToken(context={"reason": "bad subject"}) from exc


def _timestamp(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError) as exc:  # NaN, infinity, past year 9999
        raise InvalidToken(context={"reason": "bad time claim"}) from exc
