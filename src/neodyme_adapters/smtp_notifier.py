"""E-mail delivery: over SMTP (aiosmtplib) in production, to the log in development.

The subject and body carry user input (the full name), so headers are built defensively:
every header value is checked for control and line-break characters before the standard
library sees it (whose default policy refuses CR and LF too), the recipient must be exactly
one address, and the SMTP envelope is given explicitly instead of being read back from the
headers. A message that cannot be built safely raises ``UnsafeEmailHeader`` and nothing is
sent.
"""

from __future__ import annotations

import email.message
import logging
import unicodedata
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import make_msgid

import aiosmtplib

from neodyme_domain.messages import EmailMessage

__all__ = ["KIND_HEADER", "TLS_MODES", "ConsoleNotifier", "SmtpNotifier", "UnsafeEmailHeader"]

KIND_HEADER = "X-Neodyme-Kind"
"""Names what a message is (``welcome``, ``password_reset``...) for receivers and tests."""

TLS_MODES = ("none", "starttls", "tls")

# Cc: C0/C1 controls (CR, LF, NUL, VT, FF, NEL...); Zl/Zp: U+2028 and U+2029. Each can end
# a header line somewhere between here and the recipient's mail client.
_UNSAFE_IN_HEADERS = frozenset({"Cc", "Zl", "Zp"})


class UnsafeEmailHeader(ValueError):
    """A header value that could forge headers or recipients: the message is not sent."""


def _header_value(name: str, value: str) -> str:
    if any(unicodedata.category(ch) in _UNSAFE_IN_HEADERS for ch in value):
        raise UnsafeEmailHeader(f"{name} contains a control or line-break character")
    return value


def _single_address(name: str, value: str) -> Address:
    """Exactly one address (``a@example.com`` or ``Name <a@example.com>``), or raise."""
    _header_value(name, value)
    probe = email.message.EmailMessage()
    try:
        probe["To"] = value
        addresses: tuple[Address, ...] = probe["To"].addresses
    except (ValueError, IndexError) as exc:  # the header parser's ways of saying "no"
        raise UnsafeEmailHeader(f"{name} is not a valid e-mail address") from exc
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise UnsafeEmailHeader(f"{name} must be exactly one e-mail address")
    return addresses[0]


class SmtpNotifier:
    """Sends each message over a new SMTP connection; raises on any failure so that the
    outbox dispatcher retries it later.

    ``tls``: ``"none"`` (plain, for a relay on localhost or a test server), ``"starttls"``
    (upgrade after connecting, usually port 587) or ``"tls"`` (TLS from the first byte,
    usually port 465). ``username`` and ``password`` enable AUTH; they go together.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        tls: str = "none",
        timeout: float = 10.0,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        if (username is None) != (password is None):
            raise ValueError("username and password must be given together")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        sender = _single_address("from_address", from_address)
        self.host = host
        self.port = port
        self.from_address = from_address
        self.username = username
        self.tls = tls
        self.timeout = timeout
        self._password = password
        self._envelope_sender = sender.addr_spec
        self._message_id_domain = sender.domain

    def __repr__(self) -> str:  # without the password: reprs end up in logs and test reports
        auth = f", username={self.username!r}" if self.username is not None else ""
        return (
            f"SmtpNotifier(host={self.host!r}, port={self.port}, "
            f"from_address={self.from_address!r}, tls={self.tls!r}{auth})"
        )

    def build(self, message: EmailMessage) -> email.message.EmailMessage:
        """The MIME message ``send`` delivers; raises UnsafeEmailHeader for a hostile header."""
        return self._build(message, _single_address("to", message.to))

    async def send(self, message: EmailMessage) -> None:
        recipient = _single_address("to", message.to)
        mime = self._build(message, recipient)
        refused, _ = await aiosmtplib.send(
            mime,
            sender=self._envelope_sender,
            recipients=[recipient.addr_spec],
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            timeout=self.timeout,
        )
        if refused:  # aiosmtplib raises when every recipient is refused; be explicit anyway
            raise aiosmtplib.SMTPRecipientsRefused(
                [
                    aiosmtplib.SMTPRecipientRefused(response.code, response.message, address)
                    for address, response in refused.items()
                ]
            )

    def _build(self, message: EmailMessage, recipient: Address) -> email.message.EmailMessage:
        mime = email.message.EmailMessage()  # policy.default: refuses CR/LF in headers too
        mime["From"] = self.from_address
        mime["To"] = recipient
        mime["Subject"] = _header_value("subject", message.subject)
        mime["Date"] = datetime.now(UTC)
        mime["Message-ID"] = make_msgid(domain=self._message_id_domain)
        mime[KIND_HEADER] = _header_value("kind", message.kind)
        mime.set_content(message.body)
        return mime


def _one_line(text: str) -> str:
    """Escape what could start a forged log line (CR, LF, other controls)."""
    return "".join(
        ch if unicodedata.category(ch) not in _UNSAFE_IN_HEADERS else repr(ch)[1:-1] for ch in text
    )


class ConsoleNotifier:
    """Writes each message to the log at INFO instead of sending it: for development, where
    the reset and verification links are read from the console. Never raises."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("neodyme.mail")

    async def send(self, message: EmailMessage) -> None:
        try:
            body = "\n".join(f"    | {_one_line(line)}" for line in message.body.splitlines())
            self._logger.info(
                "e-mail (not sent, console notifier) kind=%s to=%s subject=%s\n%s",
                _one_line(message.kind),
                _one_line(message.to),
                _one_line(message.subject),
                body,
                extra={"email_kind": message.kind, "email_to": message.to},
            )
        except Exception:  # a development aid must not make delivery fail
            return
