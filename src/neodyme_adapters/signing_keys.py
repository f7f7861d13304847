"""Key pairs for asymmetric access tokens (``KeyMaker``), by joserfc (authlib's JOSE
library): Ed25519 for EdDSA, P-256 for ES256, named by their RFC 7638 thumbprints."""

from __future__ import annotations

import json

from joserfc.jwk import ECKey, OKPKey

from neodyme_domain.tokens.signing_keys import KeyMaterial, SigningAlgorithm


class JoseKeyMaker:
    def make(self, algorithm: SigningAlgorithm) -> KeyMaterial:
        key = (
            OKPKey.generate_key("Ed25519")
            if algorithm is SigningAlgorithm.EDDSA
            else ECKey.generate_key("P-256")
        )
        kid = key.thumbprint()
        public = {**key.as_dict(private=False), "kid": kid, "alg": algorithm.value, "use": "sig"}
        return KeyMaterial(
            kid=kid,
            public_jwk=json.dumps(public, sort_keys=True),
            private_pem=key.as_pem(private=True).decode(),
        )
