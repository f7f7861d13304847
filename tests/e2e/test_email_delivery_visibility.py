"""A mail path that does not work is visible: the server log says so (one WARNING when
delivery starts failing, one when it recovers, an ERROR for each e-mail given up), and
`neodyme outbox status` shows the backlog. Once the mail server is fixed every e-mail
arrives exactly once; a dead one comes back with `neodyme outbox retry --dead`.

The servers run with the production default NEODYME_SMTP_TLS=starttls, trusting the
tests' private CA through NEODYME_SMTP_CA_FILE, as an operator with a private CA would.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.api import Api, Cli, CliResult, recipient
from tests.e2e.faults import Reader, Rig, address, api_of, eventually, everything_sent
from tests.support.certificates import PrivateCa
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpSink
from tests.support.tcp_proxy import TcpProxy

QUICK_RETRIES = {"outbox_retry_seconds": "0.2", "outbox_max_retry_seconds": "0.5"}
WITHIN = 15.0
"""Seconds to wait for what the server does at its next polls (generous: a busy machine)."""


def starttls_env(
    rig: Rig, url: str, smtp_port: int, ca: PrivateCa, **overrides: str
) -> dict[str, str]:
    """The production default TLS mode, trusting the tests' CA, with quick retries."""
    ca_file = str(ca.write_ca(rig.workdir))
    return rig.env(
        url,
        smtp_port,
        smtp_tls="starttls",
        smtp_ca_file=ca_file,
        **(QUICK_RETRIES | overrides),
    )


def log_lines(server: ServerProcess, *fragments: str) -> list[str]:
    """The server log's lines that contain every fragment."""
    if not server.log_path.exists():
        return []
    text = server.log_path.read_text(errors="replace")
    return [line for line in text.splitlines() if all(f in line for f in fragments)]


async def logged(server: ServerProcess, *fragments: str) -> str:
    """Wait for a server log line with every fragment; the first such line."""
    await eventually(
        lambda: bool(log_lines(server, *fragments)),
        within=WITHIN,
        what=f"a server log line with {fragments}",
    )
    return log_lines(server, *fragments)[0]


def status_of(result: CliResult) -> dict[str, str]:
    """`neodyme outbox status`, by line: {"pending": "3 (not sent yet)", ...}."""
    assert result.returncode == 0, result.stderr
    return dict(line.split(":", 1) for line in result.stdout.splitlines())


def count(status: dict[str, str], name: str) -> int:
    match = re.match(r"\s*(\d+)", status[name])
    assert match is not None, status
    return int(match.group(1))


def welcomes(sink: SmtpSink) -> Counter[str]:
    return Counter(recipient(r.message) for r in list(sink.received))


async def register(api: Api, tag: str, how_many: int) -> list[str]:
    emails = [address(tag) for _ in range(how_many)]
    for email in emails:
        await api.signed_up(email)  # 201 at once, whatever the mail server does
    return emails


async def every_email_tried(reader: Reader, emails: list[str]) -> None:
    def tried() -> bool:
        rows = {row.recipient: row for row in reader.outbox()}
        return all(e in rows and rows[e].attempts >= 1 and not rows[e].sent for e in emails)

    await eventually(tried, within=WITHIN, what="every welcome e-mail tried, none sent")


async def assert_backlog_shown(cli: Cli, pending: int) -> None:
    status = status_of(await cli.run("outbox", "status"))
    assert count(status, "pending") == pending, status
    assert count(status, "failing") == pending, status
    assert count(status, "dead") == 0, status
    assert re.match(r" \d+s ago \(queued ", status["oldest pending"]), status


@dataclass(frozen=True, slots=True)
class Outage:
    server: ServerProcess
    queued: list[str]
    """The addresses registered while the mail path was broken."""
    failing: str
    """The server's WARNING line when delivery started failing."""
    recovered: str
    """Its WARNING line when delivery recovered."""


async def outage_then_fix(
    rig: Rig, url: str, env: dict[str, str], tag: str, fix: Callable[[], None]
) -> Outage:
    """With the mail path broken: registrations answer 201, the log tells the failure,
    `neodyme outbox status` shows the backlog and readiness stays green. Then ``fix()``:
    everything is sent and the log tells the recovery."""
    server = rig.server(env)
    reader = rig.reader(url)
    async with api_of(server) as api:
        queued = await register(api, tag, 3)

        failing = await logged(server, "WARNING", "neodyme.outbox", "delivery is failing")
        assert re.search(r"; e-mails pending: [1-3]$", failing), failing
        await every_email_tried(reader, queued)
        await assert_backlog_shown(Cli(env=env, cwd=rig.workdir), pending=3)
        ready = await api.client.get("/health/ready")
        assert ready.status_code == 200, "readiness is about the database, not the mail"

        fix()

        await everything_sent(reader)
        recovered = await logged(server, "WARNING", "neodyme.outbox", "delivery recovered")
        assert recovered.endswith("; e-mails pending: 0"), recovered
    assert len(log_lines(server, "neodyme.outbox", "delivery is failing")) == 1
    assert log_lines(server, "ERROR") == []
    return Outage(server, queued, failing, recovered)


async def test_a_mail_server_without_starttls_is_reported_and_then_every_email_arrives_once(
    tmp_path: Path,
) -> None:
    ca = PrivateCa()
    with Rig(tmp_path) as rig:
        url = rig.database("nostarttls")
        sink = rig.smtp()  # plain SMTP: it offers no STARTTLS

        def turn_starttls_on() -> None:  # with a certificate the server trusts
            sink.stop()
            sink.tls_context = ca.server_context()
            sink.start()

        env = starttls_env(rig, url, sink.port, ca)
        outage = await outage_then_fix(rig, url, env, "nostarttls", turn_starttls_on)

        reason = "SMTPException: SMTP STARTTLS extension not supported by server."
        assert f"e-mail delivery is failing: {reason}; " in outage.failing
        # The last failure is the missing STARTTLS, or a retry that met the mail server
        # restarting with STARTTLS on: down (refused), or up without its banner yet.
        last = (
            f"(last: {reason})",
            "(last: SMTPConnectError: Error connecting to 127.0.0.1 on port",
            "(last: SMTPConnectTimeoutError: Timed out waiting for server ready message)",
        )
        assert any(each in outage.recovered for each in last), outage.recovered
        assert welcomes(sink) == Counter(dict.fromkeys(outage.queued, 1)), "each exactly once"
        assert all(received.tls for received in sink.received)


async def test_a_mail_server_that_drops_every_connection_is_reported_the_same_way(
    tmp_path: Path,
) -> None:
    ca = PrivateCa()
    with Rig(tmp_path) as rig:
        url = rig.database("dropping")
        sink = rig.smtp(tls_context=ca.server_context())
        with TcpProxy(sink.host, sink.port) as endpoint:
            endpoint.cut()  # accepts each connection and closes it at once
            env = starttls_env(rig, url, endpoint.port, ca)
            # Fixed: the connections reach the mail server again.
            outage = await outage_then_fix(rig, url, env, "dropped", endpoint.restore)

        assert "SMTPConnectError" in outage.failing or "SMTPServerDisconnected" in outage.failing
        assert welcomes(sink) == Counter(dict.fromkeys(outage.queued, 1)), "each exactly once"
        assert endpoint.accepted > len(outage.queued), "every e-mail was tried while it dropped"


async def test_an_email_past_its_attempts_is_dead_until_retried_then_delivered_once(
    tmp_path: Path,
) -> None:
    ca = PrivateCa()
    with Rig(tmp_path) as rig:
        url = rig.database("deadletter")
        sink = rig.smtp(tls_context=ca.server_context())
        sink.stop()  # the mail server is down: connections are refused
        env = starttls_env(
            rig,
            url,
            sink.port,
            ca,
            outbox_max_attempts="2",
            outbox_retry_seconds="0.2",
            outbox_max_retry_seconds="0.2",
        )
        server = rig.server(env)
        reader = rig.reader(url)
        cli = Cli(env=env, cwd=rig.workdir)
        async with api_of(server) as api:
            [email] = await register(api, "dead", 1)

            error = await logged(server, "ERROR", "neodyme.outbox", "given up after 2 failed")
            domain = email.split("@")[1]
            assert f"(welcome, to an address at {domain})" in error
            assert email.split("@")[0] not in error, "the address itself stays out of the log"
            status = status_of(await cli.run("outbox", "status"))
            assert (count(status, "pending"), count(status, "dead")) == (0, 1), status
            assert status["oldest pending"].strip() == "none"
            [row] = reader.outbox()
            assert (row.attempts, row.sent) == (2, False)

            sink.start()  # fixed; a dead e-mail waits for the operator, not for a poll
            status = status_of(await cli.run("outbox", "status"))
            assert count(status, "dead") == 1, status

            retried = await cli.run("outbox", "retry", "--dead")
            assert retried.returncode == 0, retried.stderr
            assert retried.stdout.startswith("re-queued 1 failing and dead e-mails"), retried

            await everything_sent(reader)

        assert welcomes(sink) == Counter({email: 1})
        assert len(log_lines(server, "ERROR", "given up")) == 1


async def test_retry_without_dead_leaves_dead_emails_alone(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        url = rig.database("retryfailing")
        sink = rig.smtp()
        sink.stop()
        env = rig.env(url, sink.port, outbox_max_attempts="1")
        server = rig.server(env)
        cli = Cli(env=env, cwd=rig.workdir)
        async with api_of(server) as api:
            await api.signed_up(address("alone"))
            await logged(server, "ERROR", "neodyme.outbox", "given up after 1 failed")

            retried = await cli.run("outbox", "retry")

            assert retried.returncode == 0, retried.stderr
            assert retried.stdout.startswith("re-queued 0 failing e-mails"), retried
            assert count(status_of(await cli.run("outbox", "status")), "dead") == 1
