"""A real OpenID Connect provider for tests: panva's certified ``oidc-provider`` (Node.js,
from npm, installed by ``make oidc-provider``) on 127.0.0.1, driven by the small
configuration in ``oidc_provider/provider.js`` that the tests own.

It has one client (``client_id``, ``client_secret``, the redirect URIs given) and no login
form: a sign-in there logs in the current account (``set_account``) and grants ``openid
email profile`` at once, so following redirects from its authorization URL ends at the
redirect URI with ``code`` and ``state``. The failures a relying party must survive are
the provider's to produce, as a broken or hostile provider would::

    with OidcProvider(redirect_uris=[...]) as provider:
        provider.set_account("bob-sub", "bob@example.com", email_verified=False)
        provider.decoy_keys(True)        # its JWKS no longer holds the key that signs
        provider.clock_offset(-7200)     # its ID tokens come out two hours old
        provider.reset()

``stop()`` ends the process: the provider is down.

The control API under it (``provider.js``), for a test that speaks HTTP itself: ``POST
/__control`` with a JSON object of any of ``account`` ({sub, email, email_verified,
name}), ``decoy_jwks`` (bool: ``/jwks`` publishes another RSA key with the same kid, so a
relying party fails on the signature, not on an unknown kid) and ``clock_offset_seconds``
(int: the token endpoint's clock, hence its ID tokens' ``iat`` and ``exp``); ``POST
/__control/reset``. Both answer 204. The default account: ``alice-sub``,
alice@example.com (verified), "Alice".
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.started import Started

PACKAGE = Path(__file__).resolve().parent / "oidc_provider"
START_TIMEOUT = 60.0
"""A failure guard only: the READY line normally comes within a second."""


class OidcProvider(Started):
    def __init__(self, redirect_uris: Sequence[str], *, client_id: str = "neodyme") -> None:
        if not (PACKAGE / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(
                "the test OpenID provider is not installed: run `make oidc-provider` (Node 20+)"
            )
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(24)
        self._redirect_uris = list(redirect_uris)
        self._process: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._readers: list[threading.Thread] = []
        self.issuer = ""

    def start(self) -> Self:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("the test OpenID provider needs Node.js 20+ (`node`) on PATH")
        env = {
            **os.environ,
            "PORT": "0",
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": self.client_secret,
            "REDIRECT_URIS": ",".join(self._redirect_uris),
        }
        self._process = subprocess.Popen(
            [node, "provider.js"],
            cwd=PACKAGE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = threading.Event()
        self._readers = [
            threading.Thread(target=self._drain_stderr, daemon=True),
            threading.Thread(target=self._await_ready, args=(ready,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        if not ready.wait(START_TIMEOUT) or not self.issuer:
            code = self._process.poll()
            why = f"hung for {START_TIMEOUT:.0f}s" if code is None else f"exited ({code})"
            self.stop()  # after which _stderr holds all it wrote
            raise RuntimeError(
                f"the test OpenID provider (node {PACKAGE / 'provider.js'}) {why} before"
                " printing READY; its stderr:\n" + "".join(self._stderr)
            )
        return self

    def _await_ready(self, ready: threading.Event) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith("READY "):
                self.issuer = line.split(" ", 1)[1].strip()
                break
        ready.set()  # READY, or the process ended (stdout closed)
        for _ in self._process.stdout:  # keep the pipe from filling up
            pass

    def _drain_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers: the provider is down once this returns."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for reader in self._readers:  # at the end of its pipe now that the process is gone
            reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    @property
    def settings_entry(self) -> dict[str, str]:
        """This provider, for its first client, as an entry of ``NEODYME_OIDC_PROVIDERS``."""
        return self._entry(self.client_id, self.client_secret)

    def register_client(self, redirect_uris: Sequence[str]) -> dict[str, str]:
        """Another client, registered as RFC 7591 says (for a relying party whose redirect
        URI was not known at the provider's start); its ``NEODYME_OIDC_PROVIDERS`` entry."""
        metadata = {
            "redirect_uris": list(redirect_uris),
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        response = httpx.post(f"{self.issuer}/reg", json=metadata, trust_env=False, timeout=10)
        assert response.status_code == 201, response.text
        client = response.json()
        return self._entry(client["client_id"], client["client_secret"])

    def _entry(self, client_id: str, client_secret: str) -> dict[str, str]:
        return {
            "name": "local",
            "title": "Local Test ID",
            "issuer": self.issuer,
            "client_id": client_id,
            "client_secret": client_secret,
        }

    def answer(self, authorization_url: str, redirect_uri: str) -> dict[str, str]:
        """What a browser does at the provider: follow its redirects (it signs the current
        account in at once) until it sends the user to ``redirect_uri``; the parameters it
        carries there (``code``, ``state``, ``iss``, or ``error``)."""
        with httpx.Client(trust_env=False, timeout=30) as browser:
            response = browser.get(authorization_url)
            while not response.headers.get("location", "").startswith(redirect_uri):
                assert response.status_code in {302, 303}, response.text[:500]
                response = browser.get(response.url.join(response.headers["location"]))
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return {name: values[0] for name, values in query.items()}

    def set_account(
        self, sub: str, email: str | None, *, email_verified: bool = True, name: str = "Test User"
    ) -> None:
        self._control(
            {
                "account": {
                    "sub": sub,
                    "email": email,
                    "email_verified": email_verified,
                    "name": name,
                }
            }
        )

    def decoy_keys(self, on: bool) -> None:
        self._control({"decoy_jwks": on})

    def clock_offset(self, seconds: int) -> None:
        self._control({"clock_offset_seconds": seconds})

    def reset(self) -> None:
        self._control({}, path="/__control/reset")

    def _control(self, body: dict[str, Any], *, path: str = "/__control") -> None:
        response = httpx.post(self.issuer + path, json=body, trust_env=False, timeout=10)
        assert response.status_code == 204, response.text
