"""client_address: the socket peer, unless a trusted proxy forwarded the request; then the
right-most X-Forwarded-For entry that is not itself a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest

from neodyme_app.http.client_address import client_address

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # No proxy trusted for this peer: the header is the client's own word.
        ("203.0.113.5", ["192.0.2.1"], "203.0.113.5"),
        ("203.0.113.5", [], "203.0.113.5"),
        ("testclient", ["192.0.2.1"], "testclient"),
        (None, ["192.0.2.1"], None),
        # A trusted proxy: the entry it appended, skipping further trusted proxies.
        ("10.0.0.1", ["192.0.2.1"], "192.0.2.1"),
        ("10.0.0.1", ["198.51.100.9, 192.0.2.1"], "192.0.2.1"),
        ("10.0.0.1", ["198.51.100.9, 192.0.2.1, 10.2.3.4"], "192.0.2.1"),
        ("10.0.0.1", ["198.51.100.9", "192.0.2.1, 10.2.3.4"], "192.0.2.1"),  # two headers
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["10.2.3.4, 10.5.6.7"], "10.2.3.4"),  # all trusted: the left-most
        # Ports, brackets, IPv4-mapped IPv6 and unreadable entries.
        ("10.0.0.1", ["192.0.2.1:4711"], "192.0.2.1"),
        ("10.0.0.1", ["[2001:db8::7]:4711"], "2001:db8::7"),
        ("10.0.0.1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.1", ["192.0.2.1"], "192.0.2.1"),
        ("10.0.0.1", ["::ffff:192.0.2.1"], "192.0.2.1"),
        ("2001:db8:ffff::1", ["192.0.2.1"], "192.0.2.1"),
        ("10.0.0.1", ["unknown"], "10.0.0.1"),
        ("10.0.0.1", ["192.0.2.1, _hidden, 10.2.3.4"], "10.2.3.4"),
    ],
)
def test_client_address(peer: str | None, forwarded_for: list[str], expected: str | None) -> None:
    assert client_address(peer, forwarded_for, TRUSTED) == expected


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address("10.0.0.1", ["192.0.2.1"], ()) == "10.0.0.1"
