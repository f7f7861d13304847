"""TLS certificates for the tests' servers, made on the spot by ``trustme``: a private CA
that nobody else trusts, and a server certificate it signed for 127.0.0.1 and localhost.

    ca = PrivateCa()
    sink = SmtpSink(tls_context=ca.server_context())     # serves the certificate
    env = server_env(..., smtp_ca_file=str(ca.write_ca(tmp_path)))  # the client trusts the CA

Clients verify as in production (host name and chain): only the CA file makes them trust it.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

__all__ = ["PrivateCa"]


class PrivateCa:
    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="neodyme tests")

    def server_context(self, *names: str) -> ssl.SSLContext:
        """What a TLS server presents: a certificate for ``names`` (by default 127.0.0.1
        and localhost, where the tests' servers listen) and its key."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
        return context

    def write_ca(self, directory: Path) -> Path:
        """The CA certificate as a PEM file in ``directory`` (for NEODYME_SMTP_CA_FILE)."""
        path = directory / "neodyme-test-ca.pem"
        self._ca.cert_pem.write_to_path(str(path))
        return path
