"""A resource server that trusts neodyme's access tokens without calling neodyme per request.

It reads neodyme's metadata once (the issuer and where its public keys are), then checks
each token's signature, expiry, issuer and audience offline with PyJWT's ``PyJWKClient``,
which caches the JWKS and fetches it again when a token names a key it has not seen (a
rotation). Needs neodyme with ``NEODYME_JWT_ALGORITHM=EdDSA`` (or ES256) and
``pip install 'pyjwt[crypto]'``.

    python examples/resource_server.py http://localhost:8000
    <paste an access token, one per line: its claims come back, or why it was refused>

``PyJWKClient`` fetches the JWKS again for an unknown ``kid`` at most once per
``cooldown`` (30 s by default). neodyme publishes a rotated key
``NEODYME_JWT_KEY_PUBLISH_SECONDS`` (60 s) before it signs, longer than that, so any JWKS
fetched within the cooldown before a new key's first token already holds the key.

What offline checks cannot see: a token revoked before it expires (logout, password
change, deactivation). A service that must see that asks ``POST /api/v1/auth/introspect``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from typing import Any

import jwt


class NeodymeTokens:
    def __init__(
        self, neodyme_url: str, audience: str = "neodyme-api", cooldown: float = 30
    ) -> None:
        url = neodyme_url.rstrip("/") + "/.well-known/openid-configuration"
        if not url.startswith(("http://", "https://")):
            raise SystemExit(f"not an http(s) URL: {neodyme_url}")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (checked above)
            metadata = json.load(response)
        self.issuer = metadata["issuer"]
        self.audience = audience
        self.keys = jwt.PyJWKClient(
            metadata["jwks_uri"], cache_keys=True, cooldown_duration=cooldown
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; ``jwt.PyJWTError`` if it is not a live neodyme token."""
        key = self.keys.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key,
            algorithms=["EdDSA", "ES256"],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "sub"]},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Verify neodyme access tokens read from stdin.")
    parser.add_argument("neodyme_url", nargs="?", default="http://localhost:8000")
    parser.add_argument("--jwks-cooldown", type=float, default=30, metavar="SECONDS")
    args = parser.parse_args()
    tokens = NeodymeTokens(args.neodyme_url, cooldown=args.jwks_cooldown)
    for line in sys.stdin:
        try:
            answer: dict[str, Any] = {"valid": True, "claims": tokens.verify(line.strip())}
        except jwt.PyJWTError as exc:
            answer = {"valid": False, "error": type(exc).__name__}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
