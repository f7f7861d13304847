"""SMTP outage: registration does not wait for the mail server, and no e-mail is lost or
sent twice, with two worker processes each running an e-mail dispatcher on one database.

Nothing here is timed. "Does not wait" is shown with a mail server that does not answer
(a silent network between the server and it, and an SMTP timeout longer than the client
waits): every registration is answered 201 while a dispatcher hangs in an attempt and no
e-mail has arrived. A mail server that is down and comes back on its port is the second
test's (and tests/e2e/test_email_delivery_visibility.py's). "Never twice" is
asserted once every outbox row is marked sent, after which no send can happen any more
(``everything_sent``), rather than after watching for a while.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from tests.e2e.api import Api, recipient
from tests.e2e.faults import Rig, address, api_of, eventually, everything_sent
from tests.support.smtp import SmtpSink
from tests.support.tcp_proxy import TcpProxy


def welcomes(sink: SmtpSink) -> Counter[str]:
    return Counter(recipient(m) for m in list(sink.messages) if m["X-Neodyme-Kind"] == "welcome")


async def register_all(api: Api, emails: list[str]) -> None:
    """Register every address at once; each must be answered 201."""
    await asyncio.gather(*(api.signed_up(email) for email in emails))


async def test_registration_does_not_wait_for_a_silent_mail_server_and_each_email_goes_once(
    tmp_path: Path,
) -> None:
    with Rig(tmp_path) as rig:
        url = rig.database("smtp")
        sink = rig.smtp()
        with TcpProxy(sink.host, sink.port) as network:
            # The mail server is unreachable, silently: a connection to it is accepted and
            # then nothing comes, no greeting and no error, until the SMTP timeout, which is
            # longer than the test client waits for an answer (api_of: 30 s). A registration
            # that waited for its e-mail would not be answered in time.
            network.cut(silently=True)
            env = rig.env(url, network.port, smtp_timeout="60", outbox_lease_seconds="300")
            server = rig.server(env, workers=2)
            reader = rig.reader(url)
            async with api_of(server) as api:
                first, *others = [address("silent") for _ in range(8)]
                await api.signed_up(first)
                await eventually(
                    lambda: network.accepted >= 1,
                    within=15,
                    what="a dispatcher connecting to the mail server (and hanging there)",
                )
                await register_all(api, others)

                assert welcomes(sink) == Counter(), "no e-mail could have been sent meanwhile"
                rows = {row.recipient: row for row in reader.outbox()}
                assert set(rows) == {first, *others}
                assert not any(row.sent for row in rows.values())

                network.restore()  # what was held back goes through: the sends complete
                await everything_sent(reader)

                after = [address("up") for _ in range(8)]
                await register_all(api, after)
                await everything_sent(reader)

        sent = welcomes(sink)
        everyone = [first, *others, *after]
        assert {email: sent[email] for email in everyone} == dict.fromkeys(everyone, 1), (
            "each welcome e-mail is delivered exactly once"
        )


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
            await register_all(api, queued)
            await eventually(
                lambda: all(row.attempts >= 1 for row in reader.outbox()),
                within=15,
                what="every welcome e-mail tried once",
            )
            sink.delay = 0.15  # 10 e-mails take 1.5 s to send, one after the other: > lease
            sink.start()
            await everything_sent(reader)

        sent = welcomes(sink)
        assert {email: sent[email] for email in queued} == dict.fromkeys(queued, 1), reader.rows(
            "SELECT recipient, attempts, last_error, sent_at FROM email_outbox"
        )
