"""bench/run.py's introspection cells: the client the EdDSA server is started with, the
credentials and form that wrk sends, and the bare reference that answers the same request.
No server is started and no wrk run."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from bench import load, run
from bench.reference_apps import json_app
from litestar.testing import TestClient

from neodyme_app.config import Settings
from neodyme_app.http.tokens_controller import basic_credentials


def test_the_introspection_client_is_a_setting_neodyme_accepts_with_its_secrets_digest():
    entry = run.introspection_client("bench", "s3cret")
    environ = {
        "NEODYME_ENVIRONMENT": "testing",
        "NEODYME_SECRET_KEY": "bench-secret-key-of-at-least-32-bytes",
        "NEODYME_DATABASE_URL": "memory://",
        "NEODYME_INTROSPECTION_CLIENTS": entry,
    }
    settings = Settings.from_env(environ)  # as `neodyme serve` reads it
    assert settings.introspection_digests == {"bench": hashlib.sha256(b"s3cret").hexdigest()}


@pytest.mark.parametrize("secret", ["plain-Secret_1", "with:colon and +plus%/="])
def test_the_basic_credentials_are_the_ones_neodyme_reads(secret: str):
    assert basic_credentials(run.basic_authorization("bench", secret)) == ("bench", secret)


def test_every_endpoint_has_a_wrk_script_and_its_paths_on_neodyme_and_the_reference():
    assert set(load.SCRIPTS) == set(run.NEODYME_PATHS) == set(run.REFERENCE_PATHS)
    for script in load.SCRIPTS.values():
        assert (load.WRK_DIR / script).is_file()
    command = load.command("http://x", "introspect.lua", ["/p", "Basic eA==", "token=t"], 16, 8)
    assert command[-4:] == ["--", "/p", "Basic eA==", "token=t"]


def test_the_bare_reference_answers_the_introspection_request_that_neodyme_is_sent():
    body = urlencode({"token": "eyJhbGciOiJFZERTQSJ9.e30.c2ln"})
    headers = {
        "Authorization": run.basic_authorization(run.INTROSPECTION_CLIENT, "not-checked"),
        "Content-Type": run.FORM,
    }
    with TestClient(json_app()) as client:
        answer = client.post(run.REFERENCE_PATHS["introspect"], content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["active"] is True
