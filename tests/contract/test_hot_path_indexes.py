"""Every statement of the hot paths can be answered through an index on PostgreSQL.

The flows that every client runs (register, log in, fail a login, refresh, reuse a
refresh token, the token check on each request, the security history, log out, change
the password, deliver the welcome e-mail) run against PostgreSQL while every statement
they send is recorded. Each recorded statement is then explained with sequential scans
switched off: PostgreSQL still plans one only where no index can serve the query, so a
"Seq Scan" in a plan is a query that would read a whole table as the table grows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_app.config import Environment, Settings
from neodyme_app.container import Container
from neodyme_app.embedded import open_neodyme
from neodyme_app.outbox_dispatcher import OutboxDispatcher
from neodyme_domain.errors import InvalidCredentials, TokenReused
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    ChangePasswordCommand,
    CurrentUserQuery,
    LogoutCommand,
    RefreshCommand,
    RegisterCommand,
    SecurityEventsQuery,
)
from tests.support.database import empty_tables

PASSWORD = "Correct-Horse-1"
READS_ROWS = re.compile(r"\b(FROM|UPDATE)\b", re.IGNORECASE)
ORIGIN = RequestOrigin(client_ip="192.0.2.7", user_agent="contract test")

Recorded = list[tuple[str, Any]]


async def run_hot_paths(neodyme: Container) -> None:
    await neodyme.register_user()(RegisterCommand("ada@example.com", "Ada", PASSWORD, ORIGIN))
    login = neodyme.authenticate_user()
    with pytest.raises(InvalidCredentials):
        await login(AuthenticateCommand("ada@example.com", "wrong", ORIGIN))
    session = await login(AuthenticateCommand("ada@example.com", PASSWORD, ORIGIN))
    user = await neodyme.get_current_user()(CurrentUserQuery(session.tokens.access_token))
    await neodyme.list_security_events()(SecurityEventsQuery(user))
    await neodyme.refresh_tokens()(RefreshCommand(session.tokens.refresh_token))
    with pytest.raises(TokenReused):
        await neodyme.refresh_tokens()(RefreshCommand(session.tokens.refresh_token))
    other = await login(AuthenticateCommand("ada@example.com", PASSWORD, ORIGIN))
    await neodyme.logout()(LogoutCommand(other.tokens.refresh_token))
    await neodyme.change_password()(ChangePasswordCommand(user, PASSWORD, "Battery-Staple-2"))
    await OutboxDispatcher.drain(neodyme.deliver_outbox)  # the welcome e-mail


@pytest.fixture
def settings(postgres_contract_url: str) -> Settings:
    return Settings(
        environment=Environment.TESTING,
        database_url=postgres_contract_url,
        secret_key="contract-tests-secret-key-of-32-bytes",
        argon2_memory_kib=64,
        argon2_time_cost=1,
    )


async def explain_with_sequential_scans_off(
    engine: AsyncEngine, statements: Recorded
) -> dict[str, set[str]]:
    """The node types of each statement's plan."""
    plans = {}
    async with engine.connect() as connection:
        await connection.execute(text("SET enable_seqscan = off"))
        for sql, params in statements:
            explained = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = explained.scalar_one()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            plans[sql] = set(node_types(plan[0]["Plan"]))
    return plans


def node_types(plan: dict[str, Any]) -> Iterator[str]:
    yield plan["Node Type"]
    for child in plan.get("Plans", []):
        yield from node_types(child)


async def test_no_hot_path_statement_needs_a_sequential_scan(settings: Settings) -> None:
    recorded: Recorded = []

    def record(_conn: Connection, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if READS_ROWS.search(sql):  # not pings, locks or plain INSERTs: they read no rows
            recorded.append((sql, params))

    async with open_neodyme(settings, migrate=False) as neodyme:
        engine = neodyme.engine()
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            await run_hot_paths(neodyme)
            event.remove(engine.sync_engine, "before_cursor_execute", record)
            distinct = list(dict(recorded).items())
            plans = await explain_with_sequential_scans_off(engine, distinct)
        finally:
            await empty_tables(engine)

    assert len(plans) >= 15, "the flows ran and their statements were recorded"
    assert [sql for sql, nodes in plans.items() if "Seq Scan" in nodes] == []


async def test_the_outbox_status_and_retry_read_only_the_unsent_emails(settings: Settings) -> None:
    """Not hot paths (an operator's command, a metrics scrape), but the outbox keeps every
    sent e-mail: reading the backlog or re-queueing must go through the index on
    ``sent_at``, not over the whole history."""
    recorded: Recorded = []

    def record(_conn: Connection, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if READS_ROWS.search(sql):
            recorded.append((sql, params))

    async with open_neodyme(settings, migrate=False, deliver=False) as neodyme:
        engine = neodyme.engine()
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            await neodyme.outbox_status()()
            await neodyme.retry_outbox()(dead=True)
            event.remove(engine.sync_engine, "before_cursor_execute", record)
            plans = await explain_with_sequential_scans_off(engine, list(dict(recorded).items()))
        finally:
            await empty_tables(engine)

    assert len(plans) == 3, "the backlog, the failing and the dead were recorded"
    assert [sql for sql, nodes in plans.items() if "Seq Scan" in nodes] == []
