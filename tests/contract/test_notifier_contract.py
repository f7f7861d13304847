"""The Notifier port: ``send`` delivers the message or raises (the outbox retries).

Run against the SMTP adapter (a real aiosmtpd server on loopback) and the console adapter
(delivery is a log record). Header injection through user-supplied text must be refused
before anything leaves the process.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosmtplib
import pytest

from neodyme_adapters.smtp_notifier import ConsoleNotifier, SmtpNotifier
from neodyme_domain.messages import EmailMessage
from neodyme_domain.model import Email, User
from neodyme_domain.ports import Notifier
from tests.support.certificates import PrivateCa
from tests.support.smtp import SmtpSink

FROM = "neodyme <no-reply@neodyme.test>"
MAIL_LOGGER = "neodyme.mail.test"


def welcome(name: str = "Ada Lovelace", to: str = "ada@example.com") -> EmailMessage:
    user = User.register(
        email=Email.parse(to), full_name=name, hashed_password="x", now=datetime.now(UTC)
    )
    return EmailMessage.welcome(user)


def message(
    *, subject: str = "Hello", to: str = "ada@example.com", kind: str = "test"
) -> EmailMessage:
    return EmailMessage(kind=kind, to=to, subject=subject, body="Hello Ada,\n\nbody\n")


def closed_port() -> int:
    """A loopback port that nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def smtp_notifier(sink: SmtpSink, **overrides: object) -> SmtpNotifier:
    settings: dict[str, object] = {
        "host": sink.host,
        "port": sink.port,
        "from_address": FROM,
        "timeout": 5.0,
    }
    settings.update(overrides)
    return SmtpNotifier(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def module_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def sink(module_sink: SmtpSink) -> SmtpSink:
    module_sink.clear()
    return module_sink


@pytest.fixture(scope="module")
def module_auth_sink() -> Iterator[SmtpSink]:
    with SmtpSink(auth=("mailer", "s3cret-pass")) as sink:
        yield sink


@pytest.fixture
def auth_sink(module_auth_sink: SmtpSink) -> SmtpSink:
    module_auth_sink.clear()
    return module_auth_sink


@dataclass
class NotifierCase:
    """A notifier and a way to observe that it delivered a message."""

    name: str
    notifier: Notifier
    delivered: Callable[[EmailMessage], Awaitable[None]]


@pytest.fixture(params=["console", "smtp"])
def case(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> NotifierCase:
    if request.param == "console":
        caplog.set_level(logging.INFO, logger=MAIL_LOGGER)

        async def logged(sent: EmailMessage) -> None:
            text = "\n".join(r.getMessage() for r in caplog.records if r.name == MAIL_LOGGER)
            assert sent.to in text
            assert sent.subject in text

        return NotifierCase("console", ConsoleNotifier(logging.getLogger(MAIL_LOGGER)), logged)

    smtp_sink: SmtpSink = request.getfixturevalue("sink")

    async def arrived(sent: EmailMessage) -> None:
        await smtp_sink.wait_for(lambda m: m["To"] == sent.to and m["Subject"] == sent.subject)

    return NotifierCase("smtp", smtp_notifier(smtp_sink), arrived)


# Every adapter


async def test_sending_a_welcome_message_delivers_it(case: NotifierCase) -> None:
    sent = welcome()

    await case.notifier.send(sent)

    await case.delivered(sent)


async def test_messages_sent_concurrently_are_all_delivered(case: NotifierCase) -> None:
    batch = [welcome(f"User {i}", f"user{i}@example.com") for i in range(5)]

    await asyncio.gather(*(case.notifier.send(m) for m in batch))

    for sent in batch:
        await case.delivered(sent)


# SMTP


async def test_smtp_message_has_the_headers_and_greets_the_user_by_name(sink: SmtpSink) -> None:
    sent = welcome("Ada Lovelace", "Ada@Example.com")

    await smtp_notifier(sink).send(sent)

    received = await sink.wait_for(lambda m: m["X-Neodyme-Kind"] == "welcome")
    assert received["To"] == "Ada@example.com"
    assert received["From"] == FROM
    assert received["Subject"] == "Welcome to neodyme"
    assert received["Message-ID"].endswith("@neodyme.test>")
    assert received["Date"].datetime.tzinfo is not None
    assert "Hello Ada Lovelace," in received.get_content()
    [envelope] = sink.received
    assert envelope.mail_from == "no-reply@neodyme.test"
    assert envelope.rcpt_tos == ("Ada@example.com",)


async def test_smtp_messages_have_distinct_message_ids(sink: SmtpSink) -> None:
    notifier = smtp_notifier(sink)

    await notifier.send(message(subject="one"))
    await notifier.send(message(subject="two"))

    await sink.wait_for(lambda m: m["Subject"] == "two")
    assert len({m["Message-ID"] for m in sink.messages}) == 2


async def test_smtp_keeps_non_ascii_names_intact(sink: SmtpSink) -> None:
    name = "Zoë Åström-李"
    sent = EmailMessage(
        kind="welcome", to="zoe@example.com", subject=f"Hi {name}", body=f"Hello {name},\n"
    )

    await smtp_notifier(sink).send(sent)

    received = await sink.wait_for(lambda m: m["To"] == "zoe@example.com")
    assert received["Subject"] == f"Hi {name}"
    assert f"Hello {name}," in received.get_content()


async def test_smtp_logs_in_when_credentials_are_given(auth_sink: SmtpSink) -> None:
    notifier = smtp_notifier(auth_sink, username="mailer", password="s3cret-pass")

    await notifier.send(welcome())

    await auth_sink.wait_for(lambda m: m["To"] == "ada@example.com")
    assert [r.login for r in auth_sink.received] == ["mailer"]


async def test_smtp_with_a_wrong_password_raises(auth_sink: SmtpSink) -> None:
    notifier = smtp_notifier(auth_sink, username="mailer", password="wrong")

    with pytest.raises(aiosmtplib.SMTPAuthenticationError, match="535"):
        await notifier.send(welcome())

    assert auth_sink.messages == []


async def test_smtp_without_credentials_to_a_server_requiring_auth_raises(
    auth_sink: SmtpSink,
) -> None:
    with pytest.raises(aiosmtplib.SMTPException, match="530"):
        await smtp_notifier(auth_sink).send(welcome())

    assert auth_sink.messages == []


async def test_smtp_to_a_closed_port_raises_quickly() -> None:
    notifier = SmtpNotifier(host="127.0.0.1", port=closed_port(), from_address=FROM, timeout=1.0)

    with pytest.raises(aiosmtplib.SMTPException):
        await asyncio.wait_for(notifier.send(welcome()), timeout=5.0)


@pytest.mark.parametrize("tls", ["starttls", "tls"])
async def test_smtp_never_falls_back_to_plain_text_when_tls_is_asked_for(
    sink: SmtpSink, tls: str
) -> None:
    # The sink speaks plain SMTP only: a notifier configured for TLS must fail, not send.
    notifier = smtp_notifier(sink, tls=tls, timeout=2.0)

    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await asyncio.wait_for(notifier.send(welcome()), timeout=5.0)

    assert sink.messages == []


@pytest.fixture(scope="module")
def private_ca() -> PrivateCa:
    return PrivateCa()


@pytest.fixture(scope="module")
def ca_file(private_ca: PrivateCa, tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(private_ca.write_ca(tmp_path_factory.mktemp("ca")))


@pytest.mark.parametrize(("tls", "implicit"), [("starttls", False), ("tls", True)])
async def test_smtp_delivers_over_tls_to_a_server_whose_ca_it_was_told_to_trust(
    private_ca: PrivateCa, ca_file: str, tls: str, implicit: bool
) -> None:
    with SmtpSink(tls_context=private_ca.server_context(), implicit_tls=implicit) as tls_sink:
        await smtp_notifier(tls_sink, tls=tls, ca_file=ca_file).send(welcome())

        [received] = tls_sink.received

    assert received.tls
    assert received.message["To"] == "ada@example.com"


@pytest.mark.parametrize(("tls", "implicit"), [("starttls", False), ("tls", True)])
async def test_smtp_refuses_a_certificate_it_has_no_reason_to_trust(
    private_ca: PrivateCa, tls: str, implicit: bool
) -> None:
    # The system's CAs do not include the tests' private one: verification is on.
    with SmtpSink(tls_context=private_ca.server_context(), implicit_tls=implicit) as tls_sink:
        # STARTTLS raises the ssl module's error, implicit TLS aiosmtplib's connect error.
        with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError), match="VERIFY_FAILED"):
            await smtp_notifier(tls_sink, tls=tls, timeout=2.0).send(welcome())

        assert tls_sink.messages == []


async def test_smtp_checks_the_host_name_of_a_trusted_certificate(
    private_ca: PrivateCa, ca_file: str
) -> None:
    # A certificate from the trusted CA, but for another server than the one asked for.
    with SmtpSink(tls_context=private_ca.server_context("mail.example.com")) as tls_sink:
        notifier = smtp_notifier(tls_sink, tls="starttls", ca_file=ca_file, timeout=2.0)
        with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
            await notifier.send(welcome())

        assert tls_sink.messages == []


def test_smtp_repr_never_shows_the_password() -> None:
    notifier = SmtpNotifier(
        host="mail.test", port=587, from_address=FROM, username="u", password="hunter2-secret"
    )

    assert "hunter2-secret" not in repr(notifier)
    assert "hunter2-secret" not in str(notifier)


HOSTILE_SUBJECTS = [
    "Welcome\r\nBcc: victim@evil.test",
    "Welcome\nBcc: victim@evil.test",
    "Welcome\rBcc: victim@evil.test",
    "Welcome\u2028Bcc: victim@evil.test",
    "Welcome\x85Bcc: victim@evil.test",
    "Welcome\x00Bcc: victim@evil.test",
]


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
async def test_smtp_refuses_a_subject_with_a_line_break_and_sends_nothing(
    sink: SmtpSink, subject: str
) -> None:
    notifier = smtp_notifier(sink)

    with pytest.raises(ValueError, match="subject"):
        await notifier.send(message(subject=subject))

    await notifier.send(message(subject="sentinel"))
    await sink.wait_for(lambda m: m["Subject"] == "sentinel")
    assert [m["Subject"] for m in sink.messages] == ["sentinel"]
    assert [r.rcpt_tos for r in sink.received] == [("ada@example.com",)]


@pytest.mark.parametrize(
    "to",
    [
        "ada@example.com\r\nBcc: victim@evil.test",
        "ada@example.com, victim@evil.test",
        "Ada <ada@example.com>, victim@evil.test",
        "not an address",
        "",
    ],
)
async def test_smtp_refuses_anything_but_one_recipient_and_sends_nothing(
    sink: SmtpSink, to: str
) -> None:
    notifier = smtp_notifier(sink)

    with pytest.raises(ValueError, match="to"):
        await notifier.send(message(to=to))

    await notifier.send(message(subject="sentinel"))
    await sink.wait_for(lambda m: m["Subject"] == "sentinel")
    assert [r.rcpt_tos for r in sink.received] == [("ada@example.com",)]


async def test_smtp_refuses_a_kind_with_a_line_break(sink: SmtpSink) -> None:
    with pytest.raises(ValueError, match="kind"):
        await smtp_notifier(sink).send(message(kind="welcome\r\nBcc: victim@evil.test"))


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"tls": "ssl"}, "tls"),
        ({"username": "u"}, "together"),
        ({"password": "p"}, "together"),
        ({"from_address": "a@example.com, b@example.com"}, "from_address"),
        ({"from_address": "no-reply@neodyme.test\r\nBcc: x@evil.test"}, "from_address"),
    ],
)
def test_smtp_refuses_bad_settings_at_construction(
    overrides: dict[str, object], problem: str
) -> None:
    settings: dict[str, object] = {"host": "mail.test", "port": 25, "from_address": FROM}
    settings.update(overrides)

    with pytest.raises(ValueError, match=problem):
        SmtpNotifier(**settings)  # type: ignore[arg-type]


# Console


async def test_console_logs_recipient_subject_and_body_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=MAIL_LOGGER)

    await ConsoleNotifier(logging.getLogger(MAIL_LOGGER)).send(welcome())

    [record] = [r for r in caplog.records if r.name == MAIL_LOGGER]
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert "ada@example.com" in text
    assert "Welcome to neodyme" in text
    assert "Hello Ada Lovelace," in text


async def test_console_uses_a_neodyme_logger_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="neodyme")

    await ConsoleNotifier().send(welcome())

    assert any("ada@example.com" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
async def test_console_never_raises_and_keeps_a_hostile_subject_on_one_line(
    caplog: pytest.LogCaptureFixture, subject: str
) -> None:
    caplog.set_level(logging.INFO, logger=MAIL_LOGGER)

    await ConsoleNotifier(logging.getLogger(MAIL_LOGGER)).send(message(subject=subject))

    [record] = [r for r in caplog.records if r.name == MAIL_LOGGER]
    lines = record.getMessage().splitlines()
    assert "Welcome" in lines[0]
    assert "Bcc: victim@evil.test" in lines[0]  # escaped, on the subject's line
    assert not any(line.startswith("Bcc:") for line in lines)


async def test_console_never_raises_even_when_logging_fails() -> None:
    class Exploding(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("disk full")

        def handle(self, record: logging.LogRecord) -> bool:
            self.emit(record)
            return True

    logger = logging.getLogger(f"{MAIL_LOGGER}.exploding")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(Exploding())
    try:
        await ConsoleNotifier(logger).send(welcome())
    finally:
        logger.handlers.clear()
