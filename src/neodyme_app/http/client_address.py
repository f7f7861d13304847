"""Who the client is: the socket peer, or what trusted reverse proxies say it is.

``X-Forwarded-For`` is a list that each proxy extends with the address it received the
request from, so only its right end can be believed: anything to the left of what our own
proxies wrote was written by the client. The client is the right-most entry that is not
itself a trusted proxy, read only when the socket peer is a trusted proxy (anyone else may
send any header they like). Login throttling counts by this address, so believing a
spoofed header would let one client pose as any number of them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IpNetwork]
) -> str | None:
    """The client's address. ``forwarded_for``: the values of every ``X-Forwarded-For``
    header, in order. A peer that is no IP address (a test client) is returned as given."""
    if peer is None:
        return None
    hop = _parse(peer)
    if hop is None:
        return peer
    entries = [entry.strip() for value in forwarded_for for entry in value.split(",")]
    while _is_trusted(hop, trusted) and entries:
        forwarded = _parse(entries.pop())
        if forwarded is None:
            break  # a trusted proxy wrote something unreadable: the proxy is what we know
        hop = forwarded
    return str(hop)


def _is_trusted(address: IpAddress, trusted: Sequence[IpNetwork]) -> bool:
    return any(address in network for network in trusted)


def _parse(text: str) -> IpAddress | None:
    """An IP address, also with a port (``1.2.3.4:56``, ``[::1]:56``), IPv4-mapped IPv6
    addresses as IPv4; None for anything else (``unknown``, obfuscated identifiers)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
