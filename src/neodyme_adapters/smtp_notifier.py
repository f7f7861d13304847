"""E-mail delivery: over SMTP (aiosmtplib), or to the log (development, or on purpose).

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
import ssl
import unicodedata
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import make_msgid

import aiosmtplib

from neodyme_domain.messages import EmailMessage

__all__ = [
    "KIND_HEADER",
    "TLS_MODES",
    "ConsoleNotifier",
    "SmtpNotifier",
    "UnsafeEmailHeader",
    "tls_context",
]

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

    The server's certificate is always verified, host name included: a mail server that
    cannot prove who it is would receive reset links. ``ca_file`` (a PEM bundle) adds
    certificate authorities to the system's trusted ones, for a relay whose certificate a
    private CA signed (or a test server's self-signed one); the system store stays trusted.
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
        ca_file: str | None = None,
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
        self.ca_file = ca_file
        # Built once (loading the system store takes tens of milliseconds), reused by every
        # connection; None for plain SMTP, which never negotiates TLS.
        self._tls_context = tls_context(ca_file) if tls != "none" else None

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
            tls_context=self._tls_context,
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


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and host name against the
    system's CAs plus those in ``ca_file`` (PEM); raises OSError if the file cannot be
    loaded."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


def _one_line(text: str) -> str:
    """Escape what could start a forged log line (CR, LF, other controls)."""
    return "".join(
        ch if unicodedata.category(ch) not in _UNSAFE_IN_HEADERS else repr(ch)[1:-1] for ch in text
    )


class ConsoleNotifier:
    """Writes each message to the log at INFO instead of sending it. Never raises.

    In development the whole message is logged: that is where reset and verification links
    are read. With ``show_content=False`` (production's log backend) only what was sent to
    whom is logged: the kind and the recipient. Subject and body are withheld whole rather
    than searched for tokens, so that no template, present or future, can put a link token
    (or a code) in the log by carrying it in a form a redaction pattern does not know.
    """

    def __init__(self, logger: logging.Logger | None = None, *, show_content: bool = True) -> None:
        self._logger = logger or logging.getLogger("neodyme.mail")
        self.show_content = show_content

    async def send(self, message: EmailMessage) -> None:
        try:
            extra = {"email_kind": message.kind, "email_to": message.to}
            if not self.show_content:
                self._logger.info(
                    "e-mail (not sent, log backend) kind=%s to=%s; subject and body withheld,"
                    " any link token redacted",
                    _one_line(message.kind),
                    _one_line(message.to),
                    extra=extra,
                )
                return
            body = "\n".join(f"    | {_one_line(line)}" for line in message.body.splitlines())
            self._logger.info(
                "e-mail (not sent, console notifier) kind=%s to=%s subject=%s\n%s",
                _one_line(message.kind),
                _one_line(message.to),
                _one_line(message.subject),
                body,
                extra=extra,
            )
        except Exception:  # a development aid must not make delivery fail
            return
