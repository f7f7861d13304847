"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, in its own thread, keeping what it
receives.

Contract tests use it in-process; e2e tests hand its ``host`` and ``port`` to the neodyme
server process and wait for the e-mails that process sends::

    with SmtpSink() as sink:
        ...
        message = await sink.wait_for(lambda m: m["To"] == "ada@example.com")

``stop()`` then ``start()`` serves again on the same port (an outage of the mail server, as
the e-mail sender sees it), keeping what was received; ``SmtpSink(port=...)`` serves on a
given port.

``SmtpSink(auth=("user", "secret"))`` advertises AUTH PLAIN and LOGIN over plain text
(loopback only) and refuses MAIL FROM until the client has logged in with those credentials.

``SmtpSink(tls_context=...)`` (a server context, e.g. ``PrivateCa().server_context()`` of
``tests.support.certificates``) offers STARTTLS and refuses mail until the client has
started TLS; with ``implicit_tls=True`` it speaks TLS from the first byte instead (the
port-465 kind). Both are attributes, so a sink can come back with TLS after ``stop()``.
``Received.tls`` says whether a message came over TLS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.started import Started

__all__ = ["Received", "SmtpSink"]


@dataclass(frozen=True, slots=True)
class Received:
    """One accepted message with its SMTP envelope (what the client said, not the headers)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    login: str | None
    message: EmailMessage
    tls: bool = False


class _DropLoginDataWarning(logging.Filter):
    """aiosmtpd itself sets the deprecated ``Session.login_data`` on every AUTH, and warns
    about it each time: noise in every failing test's captured log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataWarning())


class SmtpSink(Started):
    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.auth = auth
        self.host = host
        self.port = port
        self.tls_context = tls_context
        """Offer TLS with this server context (STARTTLS, or ``implicit_tls``); settable
        between ``stop()`` and ``start()``."""
        self.implicit_tls = implicit_tls
        self.delay = 0.0
        """Seconds each message takes to be accepted (a slow mail server); settable."""
        self.messages: list[EmailMessage] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: _PreboundController | None = None

    # lifecycle

    def start(self) -> Self:
        if self._controller is not None:
            raise RuntimeError("SmtpSink is already running")
        # Bind before starting, so the port is ours from the first moment: asking the OS for
        # a free port and binding it later races other tests (pytest-xdist) for it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Always, the first bind too: the sockets it accepts inherit the option, and a
            # restart on the same port must not be refused for a connection of the previous
            # run that is still closing (seen when the server's dispatcher was mid-session).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            if self.implicit_tls and self.tls_context is None:
                raise ValueError("implicit_tls needs a tls_context")
            if self.implicit_tls:
                tls: dict[str, Any] = {"ssl_context": self.tls_context}
            elif self.tls_context is not None:
                tls = {"tls_context": self.tls_context, "require_starttls": True}
            else:
                tls = {}
            controller = _PreboundController(
                _Handler(self),
                sock,
                server_hostname="neodyme-smtp-sink",
                authenticator=self._authenticate if self.auth else None,
                auth_require_tls=False,  # plain-text AUTH is fine on loopback, and testable
                ready_timeout=10.0,
                **tls,
            )
            controller.start()
        except BaseException:
            sock.close()
            raise
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # what arrived

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.received.clear()

    async def wait_for(
        self,
        predicate: Callable[[EmailMessage], bool],
        timeout: float = 10.0,  # noqa: ASYNC109  (the API e2e tests use; polls, never blocks)
    ) -> EmailMessage:
        """The first received message that satisfies ``predicate``, waiting up to ``timeout``
        seconds for it; polls with ``asyncio.sleep`` so the event loop keeps running."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                snapshot = list(self.messages)
            for message in snapshot:
                if predicate(message):
                    return message
            if loop.time() >= deadline:
                raise AssertionError(
                    f"no e-mail matching the predicate reached {self.host}:{self.port} within "
                    f"{timeout}s; received {len(snapshot)}: {_summary(snapshot)}"
                )
            await asyncio.sleep(0.02)

    def _receive(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received.message)
            self.received.append(received)

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if self.auth is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self.auth
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode())


def _summary(messages: list[EmailMessage]) -> str:
    if not messages:
        return "nothing"
    return "; ".join(
        f"to={m['To']!s} subject={m['Subject']!s} kind={m['X-Neodyme-Kind']!s}" for m in messages
    )


class _Handler:
    """aiosmtpd hooks: refuse senders that have not logged in (when AUTH is configured) and
    keep every accepted message, parsed."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # Enforced here rather than with aiosmtpd's auth_required, which warns on every
        # connection when TLS is not required as well.
        if self._sink.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._sink.delay:
            await asyncio.sleep(self._sink.delay)
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = BytesParser(policy=default_policy).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        transport = server.transport
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        self._sink._receive(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                login=login,
                message=message,
                tls=tls,
            )
        )
        return "250 Message accepted for delivery"


class _PreboundController(Controller):
    """A threaded aiosmtpd controller serving on a socket that is already bound."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)
