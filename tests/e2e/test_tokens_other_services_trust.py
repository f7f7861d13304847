"""Tokens other services trust, as a resource server meets them: neodyme on EdDSA in two
worker processes, the example resource server of examples/ verifying tokens offline with
the JWKS across a key rotation made by `neodyme keys rotate`, and RFC 7662 introspection
seeing what offline checks cannot (a logout)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jwt

from tests.e2e.api import Cli, expect, unique_email
from tests.e2e.faults import Rig, api_of, eventually
from tests.support.server import free_port

EXAMPLE = Path(__file__).parents[2] / "examples" / "resource_server.py"
CLIENT_SECRET = secrets.token_urlsafe(32)
INTROSPECTION_CLIENT = "orders:" + hashlib.sha256(CLIENT_SECRET.encode()).hexdigest()


class ResourceServer:
    """examples/resource_server.py as its own process: a token a line in, a verdict out."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    async def verify(self, token: str) -> dict[str, Any]:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(token.encode() + b"\n")
        await self._process.stdin.drain()
        line = await asyncio.wait_for(self._process.stdout.readline(), timeout=30)
        assert line, "the example resource server exited"
        return dict(json.loads(line))


@asynccontextmanager
async def resource_server(neodyme_url: str) -> AsyncIterator[ResourceServer]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        neodyme_url,
        # The test's keys are published 1 s ahead, not the default 60 s: PyJWKClient must
        # not wait its default 30 s between two fetches (see the example's docstring).
        "--jwks-cooldown",
        "0",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield ResourceServer(process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        await asyncio.wait_for(process.wait(), timeout=30)


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


async def test_a_resource_server_verifies_tokens_offline_across_a_rotation(tmp_path: Path) -> None:
    port = free_port()
    with Rig(tmp_path, "sqlite") as rig:
        env = rig.env(
            rig.database("trusted"),
            rig.smtp().port,
            jwt_algorithm="EdDSA",
            jwt_key_publish_seconds="1",  # each worker reloads its keys every third of it
            public_url=f"http://127.0.0.1:{port}",
            introspection_clients=INTROSPECTION_CLIENT,
        )
        server = rig.server(env, workers=2, port=port)
        cli = Cli(env=env, cwd=tmp_path)
        async with api_of(server) as api, resource_server(server.base_url) as example:
            metadata = expect(await api.client.get("/.well-known/openid-configuration"), 200)
            assert metadata["jwks_uri"] == f"{server.base_url}/.well-known/jwks.json"
            jwks = await api.client.get("/.well-known/jwks.json")
            assert jwks.headers["cache-control"] == "public, max-age=0"
            [first_key] = jwks.json()["keys"]
            assert (first_key["kty"], first_key["crv"], first_key["alg"]) == (
                "OKP",
                "Ed25519",
                "EdDSA",
            )

            email = unique_email("offline")
            session = await api.signed_up(email)
            old_token = session["access_token"]
            assert kid_of(old_token) == first_key["kid"]
            verdict = await example.verify(old_token)
            assert verdict["valid"], verdict
            assert verdict["claims"]["sub"] == session["user"]["id"]

            rotated = await cli.run("keys", "rotate")
            assert rotated.returncode == 0, rotated.stderr
            new_kid = rotated.stdout.split()[2]
            assert new_kid != first_key["kid"]

            async def signs_with_new_key() -> bool:
                return kid_of(expect(await api.login(email), 200)["access_token"]) == new_kid

            await eventually(signs_with_new_key, within=30, what="tokens signed by the new key")
            # Both workers: every login from now on is signed by the new key.
            for _ in range(6):
                assert await signs_with_new_key()
            new_token = expect(await api.login(email), 200)["access_token"]

            verdict = await example.verify(new_token)
            assert verdict["valid"], verdict
            assert (await example.verify(old_token))["valid"]  # the old key still verifies
            keys = {
                key["kid"]
                for key in (await api.client.get("/.well-known/jwks.json")).json()["keys"]
            }
            assert keys == {first_key["kid"], new_kid}
            forged = new_token[:-4] + ("AAAA" if not new_token.endswith("AAAA") else "BBBB")
            assert (await example.verify(forged)) == {
                "valid": False,
                "error": "InvalidSignatureError",
            }

            listed = await cli.run("keys", "list")
            assert listed.returncode == 0, listed.stderr
            states = {line.split()[0]: line.split()[2] for line in listed.stdout.splitlines()[1:]}
            assert states == {new_kid: "signing", first_key["kid"]: "verifying"}

            # What offline checks cannot see, introspection does: the session ended.
            introspect = "/api/v1/auth/introspect"
            auth = basic("orders", CLIENT_SECRET)
            live = expect(
                await api.client.post(introspect, data={"token": new_token}, headers=auth), 200
            )
            assert live["active"] is True
            assert (live["sub"], live["sid"]) == (
                session["user"]["id"],
                jwt.decode(new_token, options={"verify_signature": False})["sid"],
            )
            logout = await api.client.post(
                "/api/v1/auth/logout",
                json={"refresh_token": expect(await api.login(email), 200)["refresh_token"]},
            )
            assert logout.status_code < 300
            wrong = await api.client.post(
                introspect, data={"token": new_token}, headers=basic("orders", "guess")
            )
            assert wrong.status_code == 401
            assert wrong.headers["www-authenticate"] == 'Basic realm="neodyme"'
            assert wrong.json()["error"]["code"] == "INVALID_CLIENT"
            still = expect(
                await api.client.post(introspect, data={"token": new_token}, headers=auth), 200
            )
            assert still["active"] is True  # logging out another session leaves this one live
            ended = await api.client.delete(
                f"/api/v1/users/me/sessions/{live['sid']}",
                headers={"Authorization": f"Bearer {new_token}"},
            )
            assert ended.status_code == 204, ended.text
            dead = expect(
                await api.client.post(introspect, data={"token": new_token}, headers=auth), 200
            )
            assert dead == {"active": False}
            assert (await example.verify(new_token))["valid"]  # offline: valid until it expires
