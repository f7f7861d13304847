"""`neodyme keys rotate|list` and `neodyme introspection new-client`, the real commands on a
SQLite file (each command is its own process, as an operator's are)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from neodyme_app.config import _introspection_clients

ENV = {
    "PATH": "/usr/bin:/bin",
    "NEODYME_ENVIRONMENT": "testing",
    "NEODYME_SECRET_KEY": "s" * 48,
}


def neodyme(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    settings = {f"NEODYME_{name.upper()}": value for name, value in env.items()}
    return subprocess.run(
        [sys.executable, "-m", "neodyme_app.cli", *argv],
        env={**ENV, "NEODYME_DATABASE_URL": f"sqlite:///{cwd / 'keys.db'}", **settings},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rotating_under_hs256_says_there_is_nothing_to_rotate(tmp_path: Path) -> None:
    done = neodyme(tmp_path, "keys", "rotate")
    assert done.returncode == 2
    assert "HS256" in done.stderr
    assert "EdDSA or ES256" in done.stderr


def test_a_rotation_adds_a_pending_key_that_the_list_shows(tmp_path: Path) -> None:
    assert neodyme(tmp_path, "db", "upgrade").returncode == 0
    assert "no signing keys" in neodyme(tmp_path, "keys", "list").stdout
    # Each process on EdDSA first makes sure a key signs (a new install gets one at once).
    first = neodyme(tmp_path, "keys", "rotate", jwt_algorithm="EdDSA")
    assert first.returncode == 0, first.stderr
    second = neodyme(tmp_path, "keys", "rotate", jwt_algorithm="EdDSA")
    assert second.returncode == 0, second.stderr
    kids = [done.stdout.split()[2] for done in (first, second)]

    listed = neodyme(tmp_path, "keys", "list", jwt_algorithm="EdDSA")
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert [(row[0], row[1], row[2]) for row in rows[:2]] == [
        (kids[1], "EdDSA", "pending"),
        (kids[0], "EdDSA", "pending"),
    ]
    assert [row[1:3] for row in rows[2:]] == [["EdDSA", "signing"]]


def test_a_new_introspection_client_gets_a_secret_once_and_its_setting_entry(
    tmp_path: Path,
) -> None:
    done = neodyme(tmp_path, "introspection", "new-client", "orders")
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines())
    secret = lines["client secret"].split()[0]
    entry = lines["add to NEODYME_INTROSPECTION_CLIENTS (comma-separated)"].strip()
    assert entry == "orders:" + hashlib.sha256(secret.encode()).hexdigest()
    assert _introspection_clients(entry) == entry  # the setting takes it as printed
    again = neodyme(tmp_path, "introspection", "new-client", "orders")
    assert secret not in again.stdout


@pytest.mark.parametrize(
    "bad", ["orders", "orders:abc", "orders:" + "0" * 64 + ",orders:" + "1" * 64, "a b:" + "0" * 64]
)
def test_a_malformed_clients_setting_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="client"):
        _introspection_clients(bad)
