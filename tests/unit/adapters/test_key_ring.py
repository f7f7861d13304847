"""The key ring and the key maker: keys named by their RFC 7638 thumbprint, a JWKS with
public parts only, access tokens signed with ``kid`` and verified while their key is
published, refresh tokens unchanged (HS256)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.fernet import Fernet
from joserfc.jwk import JWKRegistry

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.fernet_box import FernetSecretBox
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.key_ring import KeyRing
from neodyme_adapters.signing_keys import JoseKeyMaker
from neodyme_domain.errors import InvalidToken
from neodyme_domain.tokens.signing_keys import SigningAlgorithm, SigningKey
from tests.support.builders import a_user

T0 = datetime.now(UTC).replace(microsecond=0)
"""Now: PyJWT checks ``iat`` and ``exp`` against the real clock."""
LIFETIME = timedelta(minutes=15)
BOX = FernetSecretBox([Fernet.generate_key()])


def stored(algorithm: SigningAlgorithm, generation: int, active_from: datetime) -> SigningKey:
    material = JoseKeyMaker().make(algorithm)
    return SigningKey(
        kid=material.kid,
        generation=generation,
        algorithm=algorithm,
        public_jwk=material.public_jwk,
        sealed_private_key=BOX.seal(material.private_pem),
        created_at=active_from,
        active_from=active_from,
    )


def service(ring: KeyRing, clock: ManualClock) -> JwtTokenService:
    return JwtTokenService(secret="s" * 32, clock=clock, ring=ring)


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_a_key_is_named_by_its_thumbprint_and_published_without_its_private_part(
    algorithm: SigningAlgorithm,
) -> None:
    material = JoseKeyMaker().make(algorithm)
    public = json.loads(material.public_jwk)
    key = JWKRegistry.import_key(
        {k: v for k, v in public.items() if k not in {"kid", "alg", "use"}}
    )
    assert material.kid == key.thumbprint()
    assert (public["alg"], public["use"], public["kid"]) == (algorithm.value, "sig", material.kid)
    assert "d" not in public
    assert "PRIVATE KEY" in material.private_pem


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_tokens_are_signed_with_kid_and_verified_with_the_published_key(
    algorithm: SigningAlgorithm,
) -> None:
    clock = ManualClock(T0)
    ring = KeyRing(BOX, LIFETIME)
    key = stored(algorithm, 1, T0)
    ring.load([key])
    tokens = service(ring, clock)
    user = a_user()
    token = tokens.issue_access(user, T0, "session-1")

    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == (algorithm.value, key.kid)
    [published] = ring.jwks(T0)["keys"]
    assert "d" not in published
    verified = jwt.decode(
        token,
        jwt.PyJWK(published).key,
        algorithms=[algorithm.value],
        audience="neodyme-api",
        issuer="neodyme",
    )
    assert verified["sub"] == str(user.id)
    assert tokens.decode_access(token).user_id == user.id
    refresh = tokens.issue_refresh(user.id, "family-1", "token-1", T0, T0 + timedelta(days=1))
    assert jwt.get_unverified_header(refresh)["alg"] == "HS256"


def test_a_token_of_a_retired_or_unknown_key_is_refused() -> None:
    clock = ManualClock(T0)
    ring = KeyRing(BOX, LIFETIME)
    old, new = (
        stored(SigningAlgorithm.EDDSA, 1, T0),
        stored(SigningAlgorithm.EDDSA, 2, T0 + timedelta(minutes=1)),
    )
    ring.load([old, new])
    tokens = service(ring, clock)
    old_token = tokens.issue_access(a_user(), T0, "s")
    assert jwt.get_unverified_header(old_token)["kid"] == old.kid

    clock.advance(timedelta(minutes=1))  # the new key signs, the old one still verifies
    assert ring.signer(clock.now()).kid == new.kid  # type: ignore[union-attr]
    tokens.decode_access(old_token)
    assert {k["kid"] for k in ring.jwks(clock.now())["keys"]} == {old.kid, new.kid}

    ring.load([new])  # the old key's row deleted: its tokens are refused
    with pytest.raises(InvalidToken):
        tokens.decode_access(old_token)
    hs256 = JwtTokenService(secret="s" * 32, clock=clock).issue_access(a_user(), T0, "s")
    with pytest.raises(InvalidToken):  # no kid: not one of the ring's
        tokens.decode_access(hs256)


def test_a_pending_key_is_published_but_does_not_sign() -> None:
    ring = KeyRing(BOX, LIFETIME)
    current, pending = (
        stored(SigningAlgorithm.ES256, 1, T0),
        stored(SigningAlgorithm.ES256, 2, T0 + timedelta(minutes=1)),
    )
    ring.load([current, pending])
    assert ring.signer(T0).kid == current.kid  # type: ignore[union-attr]
    assert [k["kid"] for k in ring.jwks(T0)["keys"]] == [pending.kid, current.kid]
    assert ring.verifier(pending.kid, T0) is not None
    assert ring.signer(T0 - timedelta(1)) is None
