"""Administration against the real server process and the real `neodyme` command: a
superuser made with the CLI pages through every account and deactivates one; the CLI lists,
deactivates and seeds accounts in the database the server uses."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from tests.e2e.api import PASSWORD, Api, Cli, Database, expect, expect_error, unique_email

SEED_PASSWORD = "Seeded-Password-1!"
PAGE = 7


async def _superuser_token(api: Api, cli: Cli) -> str:
    email = unique_email("admin")
    created = await cli.create_user(email, "Ada Admin", PASSWORD, superuser=True)
    assert created.returncode == 0, created
    session = expect(await api.login(email, PASSWORD), 200)
    assert session["user"]["is_superuser"] is True
    return str(session["access_token"])


async def _assert_locked_out(api: Api, victim: dict[str, Any], email: str) -> None:
    """What deactivation promises: at once, every way in is closed."""
    expect_error(await api.me(victim["access_token"]), 401, "INVALID_TOKEN")
    expect_error(await api.refresh(victim["refresh_token"]), 401, "INVALID_TOKEN")
    expect_error(await api.login(email, PASSWORD), 403, "ACCOUNT_INACTIVE")
    expect_error(await api.login(email, "WrongPassword123!"), 401, "INVALID_CREDENTIALS")


def _listed(output: str, email: str) -> list[str]:
    """The `neodyme users list` row of ``email``, split: id, email, active, verified,
    super, name..."""
    rows = [line.split() for line in output.splitlines() if email in line.split()]
    assert len(rows) == 1, output
    return rows[0]


async def test_a_superuser_pages_through_every_user_while_users_keep_registering(
    api: Api, cli: Cli, database: Database
) -> None:
    run = uuid.uuid4().hex[:8]
    token = await _superuser_token(api, cli)
    mine = [(await api.signed_up(f"{run}-listed{i}@example.com"))["user"] for i in range(12)]
    existing = database.user_ids()  # every account, this test's and earlier ones'
    assert {user["id"] for user in mine} <= existing

    walked: list[dict[str, Any]] = []
    during: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        page = expect(await api.list_users(token, limit=PAGE, cursor=cursor), 200)
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= PAGE
        walked += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
        assert len(page["items"]) == PAGE
        # Someone signs up between two page requests.
        during.append((await api.signed_up(f"{run}-during{len(during)}@example.com"))["user"]["id"])
    else:
        raise AssertionError("GET /users did not reach a last page in 1000 requests")

    counts = Counter(user["id"] for user in walked)
    assert [i for i, n in counts.items() if n > 1] == []
    assert existing <= set(counts), existing - set(counts)
    assert set(counts) <= existing | set(during)  # nothing invented
    by_id = {user["id"]: user for user in walked}
    for user in mine:
        assert by_id[user["id"]] == user
    order = [(datetime.fromisoformat(u["created_at"]), uuid.UUID(u["id"])) for u in walked]
    assert order == sorted(order), "GET /users is ordered by creation time, then id"

    too_big = await api.list_users(token, limit=201)
    expect_error(too_big, 422, "VALIDATION_ERROR")


async def test_administration_is_refused_to_users_who_are_not_superusers(api: Api) -> None:
    plain = await api.signed_up(unique_email("plain"))
    other = (await api.signed_up(unique_email("other")))["user"]
    token = plain["access_token"]

    expect_error(await api.list_users(token), 403, "FORBIDDEN")
    expect_error(await api.list_users(token, limit=PAGE), 403, "FORBIDDEN")
    expect_error(await api.user(other["id"], token), 403, "FORBIDDEN")
    expect_error(await api.user(str(uuid.uuid4()), token), 403, "FORBIDDEN")
    expect_error(await api.set_active(other["id"], token, False), 403, "FORBIDDEN")
    expect_error(await api.set_active(plain["user"]["id"], token, False), 403, "FORBIDDEN")

    expect(await api.me(token), 200)
    expect(await api.login(other["email"]), 200)  # still active


async def test_a_superuser_deactivates_an_account_and_it_is_locked_out_at_once(
    api: Api, cli: Cli
) -> None:
    token = await _superuser_token(api, cli)
    email = unique_email("victim")
    victim = await api.signed_up(email)
    expect(await api.me(victim["access_token"]), 200)

    deactivated = expect(await api.set_active(victim["user"]["id"], token, False), 200)

    assert deactivated["id"] == victim["user"]["id"]
    assert deactivated["is_active"] is False
    await _assert_locked_out(api, victim, email)
    assert expect(await api.user(victim["user"]["id"], token), 200)["is_active"] is False
    missing = await api.set_active(str(uuid.uuid4()), token, False)
    expect_error(missing, 404, "USER_NOT_FOUND")

    reactivated = expect(await api.set_active(victim["user"]["id"], token, True), 200)
    assert reactivated["is_active"] is True
    expect(await api.login(email, PASSWORD), 200)


async def test_the_cli_lists_and_deactivates_accounts(api: Api, cli: Cli) -> None:
    email = unique_email("cli-victim")
    victim = await api.signed_up(email, full_name="Victor Victim")

    listed = await cli.run("users", "list")
    assert listed.returncode == 0, listed
    row = _listed(listed.stdout, email)
    assert row[0] == victim["user"]["id"]
    assert row[2:5] == ["yes", "no", "no"]  # active, verified, superuser
    assert " ".join(row[5:]) == "Victor Victim"

    done = await cli.run("users", "deactivate", email)

    assert done.returncode == 0, done
    assert email in done.stdout
    assert victim["user"]["id"] in done.stdout
    await _assert_locked_out(api, victim, email)
    relisted, unknown = await asyncio.gather(
        cli.run("users", "list"), cli.run("users", "deactivate", unique_email("nobody"))
    )
    assert relisted.returncode == 0, relisted
    assert _listed(relisted.stdout, email)[2] == "no"
    assert unknown.returncode == 1, unknown
    assert unknown.stderr.startswith("neodyme: "), unknown


async def test_the_cli_seeds_200_users_who_log_in_with_the_seed_password(
    api: Api, cli: Cli, database: Database
) -> None:
    before = database.users_by_email()

    seeded = await cli.run("seed", "--users", "200", "--password-stdin", stdin=SEED_PASSWORD)

    assert seeded.returncode == 0, seeded
    assert "seeded 200 users, all with the password you gave" in seeded.stdout
    assert SEED_PASSWORD not in seeded.stdout + seeded.stderr  # never echoed
    new = {email: id_ for email, id_ in database.users_by_email().items() if email not in before}
    assert len(new) == 200, sorted(new)
    runs = {re.fullmatch(r".+\.([0-9a-f]{6})\d+@example\.com", email) for email in new}
    assert None not in runs, sorted(new)
    assert len({match.group(1) for match in runs if match}) == 1, sorted(new)

    listed = await cli.run("users", "list")
    assert listed.returncode == 0, listed
    email = sorted(new)[0]
    assert _listed(listed.stdout, email)[0] == new[email]
    # Seeding is quiet: no welcome e-mail queued, no event recorded.
    assert database.emails_queued_for(email) == 0
    assert database.events_of(new[email]) == []

    session = expect(await api.login(email, SEED_PASSWORD), 200)
    assert session["user"]["id"] == new[email]
    assert session["user"]["is_active"] is True
    assert session["user"]["is_superuser"] is False
    expect(await api.me(session["access_token"]), 200)
    expect_error(await api.login(sorted(new)[1], PASSWORD), 401, "INVALID_CREDENTIALS")
