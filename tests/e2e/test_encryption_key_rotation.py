"""Rotating the key of the secrets at rest (TOTP secrets, EdDSA signing keys), as
docs/security.md tells an operator to: a new key first, `neodyme mfa reseal`, then the old
key dropped; sign-in with a code works throughout, and a key list that cannot read the
secrets is refused without a change."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp

from tests.e2e.api import PASSWORD, Cli, expect, expect_error, unique_email
from tests.e2e.faults import Rig, api_of


async def test_a_new_key_reseal_and_the_old_key_dropped(tmp_path: Path) -> None:
    with Rig(tmp_path, "sqlite") as rig, rig.explained():
        # NEODYME_ENCRYPTION_KEYS: derived. EdDSA: the server's start seals a signing key.
        env = rig.env(rig.database("keys"), rig.smtp().port, jwt_algorithm="EdDSA")
        email = unique_email("rotation")
        async with api_of(rig.server(env)) as api:
            token = (await api.signed_up(email))["access_token"]
            setup = expect(await api.mfa("totp/setup", {"password": PASSWORD}, token), 200)
            code = pyotp.TOTP(setup["secret"]).now()
            expect(await api.mfa("totp/confirm", {"code": code}, token), 200)

        def cli(keys: str) -> Cli:
            return Cli(env=env | {"NEODYME_ENCRYPTION_KEYS": keys}, cwd=tmp_path)

        made = await cli("derived").run("mfa", "new-key")
        assert made.returncode == 0, made.stderr
        new_key = made.stdout.strip()
        resealed = await cli(f"{new_key},derived").run("mfa", "reseal")
        assert resealed.returncode == 0, resealed.stderr
        assert resealed.stdout.startswith("re-sealed 1 TOTP secrets and 1 signing keys")
        alone = await cli(new_key).run("mfa", "reseal")  # reads every secret with it alone
        assert alone.returncode == 0, alone.stderr
        stale = await cli("derived").run("mfa", "reseal")
        assert stale.returncode == 1
        assert stale.stderr.startswith("neodyme: a TOTP secret or signing key opens with none")
        assert "Traceback" not in stale.stderr
        assert new_key not in stale.stderr + stale.stdout

        rotated = env | {"NEODYME_ENCRYPTION_KEYS": new_key}
        async with api_of(rig.server(rotated)) as api:
            asked = expect_error(await api.login(email), 401, "MFA_REQUIRED")
            # The confirmation spent the current step: the app's next code, within drift.
            code = pyotp.TOTP(setup["secret"]).at(time.time(), counter_offset=1)
            verify = {"mfa_token": asked["details"]["mfa_token"], "code": code}
            expect(await api.mfa("verify", verify), 200)
