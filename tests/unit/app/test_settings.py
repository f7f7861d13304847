"""Settings are validated at start: a bad value is one line naming the variable, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neodyme_app.cli import worker_count
from neodyme_app.config import (
    Environment,
    Settings,
    SettingsError,
    SmtpTls,
    load_development_secret,
)

SECRET = "s" * 32


def test_defaults_serve_sqlite_with_book_settings() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET})

    assert settings.environment is Environment.DEVELOPMENT
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert (settings.access_token_ttl, settings.refresh_token_ttl) == (900, 30 * 24 * 3600)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19456, 2)
    assert settings.argon2_parallelism == 1
    assert settings.max_body_bytes == 64 * 1024


def test_values_are_parsed_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "NEODYME_ENVIRONMENT": "production",
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_SMTP_HOST": "smtp.example.com",
            "NEODYME_SMTP_PORT": "2525",
            "NEODYME_SMTP_TLS": "tls",
            "NEODYME_DOCS": "false",
            "NEODYME_LOG_LEVEL": "debug",
        }
    )

    assert settings.environment is Environment.PRODUCTION
    assert (settings.smtp_port, settings.smtp_tls) == (2525, SmtpTls.TLS)
    assert settings.docs is False
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NEODYME_ENVIRONMENT", "staging"),
        ("NEODYME_SMTP_PORT", "smtp"),
        ("NEODYME_SMTP_PORT", "70000"),
        ("NEODYME_ACCESS_TOKEN_TTL", "0"),
        ("NEODYME_SMTP_TLS", "maybe"),
        ("NEODYME_DOCS", "perhaps"),
        ("NEODYME_LOG_LEVEL", "LOUD"),
        ("NEODYME_ARGON2_MEMORY_KIB", "-1"),
        ("NEODYME_DATABASE_URL", ""),
        ("NEODYME_DATABASE_URL", "mysql://root@localhost/neodyme"),
        ("NEODYME_DATABASE_URL", "sqlite+aiosqlite:///:memory:"),
        ("NEODYME_OUTBOX_RETRY_SECONDS", "0"),
        ("NEODYME_OUTBOX_MAX_RETRY_SECONDS", "nan"),
        ("NEODYME_OUTBOX_LEASE_SECONDS", "-60"),
        ("NEODYME_WEBAUTHN_ORIGINS", "app.example"),
        ("NEODYME_WEBAUTHN_ORIGINS", "https://app.example/login"),
        ("NEODYME_WEBAUTHN_ORIGINS", "ftp://app.example"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"NEODYME_SECRET_KEY": SECRET, variable: value})

    assert variable in str(caught.value)
    assert "\n" not in str(caught.value)


def test_passkeys_belong_to_the_public_urls_host_and_origins() -> None:
    settings = Settings.from_env(
        {
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_PUBLIC_URL": "https://id.example.com/base/",
            "NEODYME_WEBAUTHN_ORIGINS": " https://app.id.example.com/ ,https://id.example.com:8443",
        }
    )
    assert settings.public_host == "id.example.com"
    assert settings.webauthn_origins == "https://app.id.example.com,https://id.example.com:8443"
    assert Settings.from_env({"NEODYME_SECRET_KEY": SECRET}).public_host == "localhost"


def test_production_refuses_a_short_secret() -> None:
    env = {
        "NEODYME_ENVIRONMENT": "production",
        "NEODYME_SECRET_KEY": "s" * 31,
        "NEODYME_SMTP_HOST": "smtp.example.com",
    }

    with pytest.raises(SettingsError, match="at least 32 bytes"):
        Settings.from_env(env)


@pytest.mark.parametrize("environment", ["testing", "production"])
def test_only_development_runs_without_a_secret(environment: str) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY must be set"):
        Settings.from_env(
            {"NEODYME_ENVIRONMENT": environment, "NEODYME_SMTP_HOST": "smtp.example.com"}
        )


def test_the_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / ".neodyme-dev-secret"

    first = load_development_secret(path)

    assert len(first) >= 32
    assert load_development_secret(path) == first
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_cli_exits_2_with_one_line_on_a_bad_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "neodyme_app.cli", "db", "upgrade"],
        env={"NEODYME_SMTP_PORT": "not-a-port", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "neodyme: NEODYME_SMTP_PORT='not-a-port' is not valid: expected a number"
    ]
    assert list(tmp_path.iterdir()) == []  # nothing was created before the check


@pytest.mark.parametrize(
    ("database_url", "requested", "expected"),
    [
        ("sqlite+aiosqlite:///n.db", None, os.cpu_count() or 1),
        ("postgresql+psycopg://db/neodyme", None, os.cpu_count() or 1),
        ("memory://", None, 1),
        ("sqlite+aiosqlite:///n.db", 3, 3),
        ("memory://", 1, 1),
    ],
)
def test_serve_runs_a_worker_per_core_unless_told_or_on_memory(
    database_url: str, requested: int | None, expected: int
) -> None:
    settings = Settings.from_env(
        {"NEODYME_SECRET_KEY": SECRET, "NEODYME_DATABASE_URL": database_url}
    )

    assert worker_count(settings, requested) == expected
