"""One request to the daemon, its answer relayed to the browser as it arrives.

Each request gets its own HTTP/1.1 connection (tornado's ``TCPClient`` and
``HTTP1Connection``, both non-blocking) so that ``close`` can end it at once
when the browser goes away: a followed log (server-sent events) stays quiet
for as long as its run prints nothing, so waiting for the next chunk to notice
would hold the daemon's stream open for that long. The answer's body is never
held whole in memory: each chunk is written and flushed to the browser before
the next is read (so a slow browser slows the daemon's side down, and an
artifact download of any size streams through).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpclient import TCPClient

from .status import describe_connection_error

CONNECT_TIMEOUT_S = 10.0
MAX_BODY_BYTES = 1 << 50
"""No limit in practice: bodies stream through in chunks."""


class UpstreamError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(UpstreamError):
    """No connection to the daemon could be made."""


class NoAnswer(UpstreamError):
    """The daemon did not begin its answer in time."""


class BrokenAnswer(UpstreamError):
    """The daemon's answer is not HTTP, or stopped before its end."""


@dataclass(frozen=True)
class UpstreamRequest:
    method: str
    target: str
    """Path and query, e.g. ``/api/runs?page=2``."""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Sink(Protocol):
    """Where the answer goes. Both methods raise ``StreamClosedError`` when the browser left."""

    async def begin(self, code: int, reason: str, headers: HTTPHeaders) -> None: ...

    async def chunk(self, data: bytes) -> None: ...


class Upstream:
    """One exchange with the daemon at ``url`` (``http://host:port``)."""

    def __init__(self, url: str, header_timeout: float) -> None:
        self.url = url
        self.header_timeout = header_timeout
        self.cancelled = False
        self._stream: IOStream | None = None

    def close(self) -> None:
        """End the exchange now (the browser went away); ``exchange`` then returns quietly."""
        self.cancelled = True
        if self._stream is not None:
            self._stream.close()

    async def exchange(self, request: UpstreamRequest, sink: Sink) -> None:
        """Send ``request`` and pass the answer to ``sink``; raises an ``UpstreamError``."""
        parts = urlsplit(self.url)
        client = TCPClient()
        try:
            stream = await client.connect(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=CONNECT_TIMEOUT_S
            )
        except TimeoutError:
            raise Unreachable(f"no connection within {CONNECT_TIMEOUT_S:g} s") from None
        except (OSError, StreamClosedError) as exc:
            raise Unreachable(describe_connection_error(exc)) from None
        finally:
            client.close()
        self._stream = stream
        try:
            if not self.cancelled:
                await self._exchange(stream, parts.netloc, request, sink)
        finally:
            stream.close()

    async def _exchange(
        self, stream: IOStream, host: str, request: UpstreamRequest, sink: Sink
    ) -> None:
        params = HTTP1ConnectionParameters(
            no_keep_alive=True, header_timeout=self.header_timeout, max_body_size=MAX_BODY_BYTES
        )
        conn = HTTP1Connection(stream, True, params)
        headers = HTTPHeaders(request.headers)
        headers["Host"] = host
        headers["Connection"] = "close"
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(request.body))
        relay = _Relay(sink, self)
        try:
            await conn.write_headers(
                RequestStartLine(request.method, request.target, "HTTP/1.1"),
                headers,
                request.body or None,
            )
            conn.finish()
            await conn.read_response(relay)
        except StreamClosedError:
            if self.cancelled:
                return
            where = "in the middle of its answer" if relay.began else "without answering"
            raise BrokenAnswer(f"the daemon closed the connection {where}") from None
        if self.cancelled or relay.finished:
            return
        if relay.began:
            raise BrokenAnswer("the daemon's answer was cut off")
        if relay.lost:
            raise BrokenAnswer("the daemon's answer is not valid HTTP")
        raise NoAnswer(f"the daemon did not answer within {self.header_timeout:g} s")


class _Relay(HTTPMessageDelegate):
    """Hands the answer to the sink; when the browser has gone, ends the exchange."""

    def __init__(self, sink: Sink, upstream: Upstream) -> None:
        self.sink = sink
        self.upstream = upstream
        self.began = False
        self.finished = False
        self.lost = False

    async def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> None:
        assert isinstance(start_line, ResponseStartLine)
        if start_line.code < 200:
            return  # an interim answer: the real one follows
        self.began = True
        try:
            await self.sink.begin(start_line.code, start_line.reason, headers)
        except StreamClosedError:
            self.upstream.close()

    async def data_received(self, chunk: bytes) -> None:
        if self.upstream.cancelled:
            return
        try:
            await self.sink.chunk(chunk)
        except StreamClosedError:
            self.upstream.close()

    def finish(self) -> None:
        self.finished = True

    def on_connection_close(self) -> None:
        self.lost = True
