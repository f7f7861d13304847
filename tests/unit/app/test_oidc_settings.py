"""NEODYME_OIDC_PROVIDERS and NEODYME_OIDC_REDIRECT_URIS: read whole at start, refused in
one clear line that never quotes a client secret."""

from __future__ import annotations

import json

import pytest

from neodyme_adapters.oidc import ProviderSettings
from neodyme_app.config import Settings, SettingsError

BASE = {"NEODYME_ENVIRONMENT": "testing", "NEODYME_SECRET_KEY": "s" * 48}
ACME = {
    "name": "acme",
    "issuer": "https://id.acme.example",
    "client_id": "neodyme",
    "client_secret": "top-secret-value",
}


def settings(**env: str) -> Settings:
    return Settings.from_env({**BASE, **{f"NEODYME_{k.upper()}": v for k, v in env.items()}})


def test_providers_are_read_with_a_title_by_default() -> None:
    chosen = settings(oidc_providers=json.dumps([ACME, {**ACME, "name": "corp", "title": "Corp"}]))
    assert chosen.identity_providers == [
        ProviderSettings("acme", "Acme", ACME["issuer"], "neodyme", "top-secret-value"),
        ProviderSettings("corp", "Corp", ACME["issuer"], "neodyme", "top-secret-value"),
    ]
    assert settings().identity_providers == []


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps(ACME),  # an object, not a list
        json.dumps([{**ACME, "client_id": ""}]),
        json.dumps([{k: v for k, v in ACME.items() if k != "issuer"}]),
        json.dumps([ACME, ACME]),  # a name twice
        json.dumps([{**ACME, "name": "Acme Corp"}]),
        json.dumps([{**ACME, "issuer": "ftp://id.acme.example"}]),
    ],
)
def test_a_malformed_provider_list_is_refused_without_its_secret(raw: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings(oidc_providers=raw)
    assert "OIDC_PROVIDERS" in str(refused.value)
    assert "top-secret-value" not in str(refused.value)


def test_redirect_uris_are_absolute_http_urls() -> None:
    chosen = settings(oidc_redirect_uris=" https://app.example/cb , http://127.0.0.1:9/cb ")
    assert chosen.allowed_redirect_uris == {"https://app.example/cb", "http://127.0.0.1:9/cb"}
    for bad in ("/relative", "javascript:alert(1)", "https://app.example/cb#frag"):
        with pytest.raises(SettingsError):
            settings(oidc_redirect_uris=bad)
