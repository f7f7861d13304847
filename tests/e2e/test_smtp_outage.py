"""SMTP outage: registration does not wait for the mail server, and no e-mail is lost or
sent twice, with two worker processes each running an e-mail dispatcher on one database.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from tests.e2e.api import Api, recipient
from tests.e2e.faults import Rig, address, api_of, eventually
from tests.support.smtp import SmtpSink

QUICK = 2.0
"""Seconds in which a registration answers 201, however the mail server is doing."""

SETTLE = 1.5
"""Seconds to keep watching after the last expected e-mail: several dispatcher polls and
retries of both workers, in which a duplicate would show up."""


def welcomes(sink: SmtpSink) -> Counter[str]:
    return Counter(recipient(m) for m in list(sink.messages) if m["X-Neodyme-Kind"] == "welcome")


async def register_quickly(api: Api, emails: list[str]) -> None:
    async def one(email: str) -> float:
        started = time.monotonic()
        await api.signed_up(email)
        return time.monotonic() - started

    took = await asyncio.gather(*(one(email) for email in emails))
    assert max(took) < QUICK, f"registrations took up to {max(took):.1f}s"


async def test_welcome_emails_wait_out_an_smtp_outage_and_are_each_sent_once(
    tmp_path: Path,
) -> None:
    with Rig(tmp_path) as rig:
        url = rig.database("smtp")
        sink = rig.smtp()
        sink.stop()  # the mail server is down from the start; its port stays reserved for it
        env = rig.env(url, sink.port, outbox_retry_seconds="0.2", outbox_max_retry_seconds="0.5")
        server = rig.server(env, workers=2)
        reader = rig.reader(url)
        async with api_of(server) as api:
            during = [address("down") for _ in range(12)]
            await register_quickly(api, during)

            # Each welcome e-mail is in the outbox, tried and not sent.
            def all_tried() -> bool:
                rows = {row.recipient: row for row in reader.outbox()}
                return all(rows[e].attempts >= 1 and not rows[e].sent for e in during)

            await eventually(all_tried, within=5, what="every welcome e-mail tried, none sent")

            sink.start()  # the mail server is back, on the same port
            await eventually(
                lambda: set(welcomes(sink)) >= set(during),
                within=10,
                what="every welcome e-mail delivered after the outage",
            )

            after = [address("up") for _ in range(12)]
            await register_quickly(api, after)
            await eventually(
                lambda: set(welcomes(sink)) >= set(after),
                within=10,
                what="every welcome e-mail delivered",
            )
            await asyncio.sleep(SETTLE)

        sent = welcomes(sink)
        assert {email: sent[email] for email in during + after} == dict.fromkeys(
            during + after, 1
        ), "each welcome e-mail is delivered exactly once"
        assert all(row.sent for row in reader.outbox())


async def test_a_slow_mail_server_does_not_get_an_email_twice(tmp_path: Path) -> None:
    """A dispatcher claims a batch of e-mails for a lease; the other worker may take them
    once it runs out. With a slow mail server a batch takes longer to send than the lease
    lasts, so the dispatcher must stop sending from its batch in time."""
    with Rig(tmp_path) as rig:
        url = rig.database("slowsmtp")
        sink = rig.smtp()
        sink.stop()
        env = rig.env(
            url,
            sink.port,
            outbox_retry_seconds="0.2",
            outbox_max_retry_seconds="0.2",
            outbox_lease_seconds="1",
            smtp_timeout="0.45",  # below half the lease (one send is well within it)
        )
        server = rig.server(env, workers=2)
        reader = rig.reader(url)
        async with api_of(server) as api:
            queued = [address("slow") for _ in range(10)]
            await register_quickly(api, queued)
            await eventually(
                lambda: all(row.attempts >= 1 for row in reader.outbox()),
                within=5,
                what="every welcome e-mail tried once",
            )
            sink.delay = 0.15  # 10 e-mails take 1.5 s to send, one after the other: > lease
            sink.start()
            await eventually(
                lambda: set(welcomes(sink)) >= set(queued),
                within=15,
                what="every welcome e-mail delivered",
            )
            await asyncio.sleep(SETTLE)

        sent = welcomes(sink)
        assert {email: sent[email] for email in queued} == dict.fromkeys(queued, 1), reader.rows(
            "SELECT recipient, attempts, last_error, sent_at FROM email_outbox"
        )
