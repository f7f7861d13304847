"""A TCP proxy the test controls, to cut a server off from its database (or anything else)
and give it back, without touching the database server itself.

It runs its own event loop in a thread, like ``SmtpSink``, so it keeps forwarding while
the test blocks (starting a server process, a synchronous HTTP call)::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = make_url(database_url).set(host=proxy.host, port=proxy.port)
        ...
        proxy.cut()      # every open connection closed; new ones closed at once
        proxy.restore()  # forwarding again

``cut()`` is what a crashed or restarted database looks like from the client: open
connections end, new ones are closed as soon as they are accepted (the client sees
"server closed the connection unexpectedly" at once, not a timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar

from sqlalchemy.engine import URL, make_url

from tests.support.started import Started

__all__ = ["TcpProxy", "postgres_proxy", "proxied_url"]

CHUNK = 65536
T = TypeVar("T")


class TcpProxy(Started):
    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        host: str = "127.0.0.1",
        target_unix_socket: str | None = None,
    ) -> None:
        """Forward to ``target_host:target_port``, or to ``target_unix_socket`` if given
        (a PostgreSQL reached over its unix socket, as a ``pgserver`` one is)."""
        self.target_host = target_host
        self.target_port = target_port
        self.target_unix_socket = target_unix_socket
        self.host = host
        self.port = 0
        self.accepted = 0
        """Connections accepted so far, forwarded or not."""
        self._is_cut = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    # lifecycle

    def start(self) -> Self:
        if self._loop is not None:
            raise RuntimeError("TcpProxy is already running")
        # Bound before the loop starts, so the port is ours from the first moment.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = int(sock.getsockname()[1])
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"tcp-proxy-{self.port}", daemon=True
        )
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, sock=sock))
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()

    # what the test controls

    @property
    def is_cut(self) -> bool:
        return self._is_cut

    @property
    def open_connections(self) -> int:
        return len(self._pairs)

    def cut(self, *, silently: bool = False) -> None:
        """Close every open connection; close new ones as soon as they are accepted.

        ``silently``: a network partition instead. Nothing is closed, but no byte gets
        through any more, on open connections and new ones alike, until ``restore()``
        (as with TCP retransmission, what was held back is then delivered).
        """
        self._call(self._cut(silently))

    def restore(self) -> None:
        """Forward again: new connections, and open ones held by a silent cut."""
        self._call(self._restore())

    # the event loop's side

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("TcpProxy is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _cut(self, silently: bool) -> None:
        self._is_cut = True
        if silently:
            self._flowing.clear()
            return
        for client, upstream in list(self._pairs):
            client.transport.abort()
            upstream.transport.abort()
        self._pairs.clear()
        self._flowing.set()  # connections held by an earlier silent cut: closed now

    async def _restore(self) -> None:
        self._is_cut = False
        self._flowing.set()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._cut(silently=False)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await self._flowing.wait()  # a silent cut: the connection hangs until restore()
        if self._is_cut:
            writer.transport.abort()
            return
        try:
            if self.target_unix_socket is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self.target_unix_socket)
            else:
                up_reader, up_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
        except OSError:
            writer.transport.abort()
            return
        if self._is_cut:  # cut while connecting upstream
            up_writer.transport.abort()
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(
                _pipe(reader, up_writer, self._flowing), _pipe(up_reader, writer, self._flowing)
            )
        finally:
            self._pairs.discard(pair)
            writer.transport.abort()
            up_writer.transport.abort()


async def _pipe(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    """Copy until end of stream or any error, holding bytes back while ``flowing`` is
    clear; then half-close, as the peer did."""
    with contextlib.suppress(OSError, ConnectionError):
        while chunk := await source.read(CHUNK):
            await flowing.wait()
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()


def postgres_proxy(url: str | URL) -> TcpProxy:
    """A proxy (not started) to the PostgreSQL server of the SQLAlchemy ``url``: over TCP,
    or over the unix socket that libpq's ``host`` query parameter names (pgserver)."""
    parsed = make_url(url)
    port = parsed.port or 5432
    directory = parsed.query.get("host")
    if parsed.host or not isinstance(directory, str):
        return TcpProxy(parsed.host or "127.0.0.1", port)
    return TcpProxy("", port, target_unix_socket=f"{directory}/.s.PGSQL.{port}")


def proxied_url(proxy: TcpProxy, url: str | URL) -> str:
    """``url`` (the same database, user and options) through the started ``proxy``."""
    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k != "host"}
    through = parsed.set(host=proxy.host, port=proxy.port, query=query)
    return through.render_as_string(hide_password=False)
