"""`neodyme seed --realistic --credentials-csv` against the database the real server uses:
every row of the credentials file logs in over HTTP as the person it names, which is what
the load test (bench/locustfile.py) relies on."""

from __future__ import annotations

import stat
from pathlib import Path

from neodyme_app import credentials_csv
from tests.e2e.api import Api, Cli, Database, expect

USERS = 30


async def test_every_seeded_credential_logs_in_as_its_person(
    api: Api, cli: Cli, database: Database, tmp_path: Path
) -> None:
    csv_path = tmp_path / "credentials.csv"

    seeded = await cli.run(
        "seed", "--users", str(USERS), "--realistic", "--credentials-csv", str(csv_path)
    )

    assert seeded.returncode == 0, seeded
    assert seeded.stdout.startswith(f"seeded {USERS} users, each with an invented name"), seeded
    assert f"{USERS}/{USERS}" in seeded.stderr  # the progress bar
    assert "holds the passwords of" in seeded.stderr.splitlines()[-1]
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    rows = credentials_csv.read(csv_path)
    assert len(rows) == USERS
    for row in rows:
        assert row.password not in seeded.stdout + seeded.stderr
        session = expect(await api.login(row.email, row.password), 200)
        assert session["user"]["email"] == row.email
        assert session["user"]["full_name"] == row.full_name
        me = expect(await api.me(session["access_token"]), 200)
        assert me["id"] == session["user"]["id"]
        assert database.emails_queued_for(row.email) == 0  # seeding is quiet
