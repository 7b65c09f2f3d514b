"""``* mlops/api/<path>``: the daemon's REST API through the Jupyter server.

The browser talks only to the Jupyter server (its login, its XSRF checks); this
handler adds the daemon's bearer token and forwards the request to
``<daemon>/api/<path>``. Only the body, its Content-Type and Accept go on:
the browser's cookies, Authorization and XSRF headers never reach the daemon,
and the token never comes back. The answer (status, content type, body)
streams back as the daemon sends it, server-sent events chunk by chunk.

Who makes a change (a model promotion, a cut-out) is the Jupyter server's logged-in
user: the proxy sets ``X-Mlops-Actor`` to that user's name and never forwards the
browser's own, so a page cannot choose whom the daemon records.
"""

from __future__ import annotations

import asyncio
import string
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.http1connection import HTTP1Connection
from tornado.httputil import HTTPHeaders

from .base import DAEMON_URL_QUERY, LabError, MlopsHandler
from .locate import DaemonDown, DaemonTarget, locate
from .upstream import BrokenAnswer, NoAnswer, Unreachable, Upstream, UpstreamRequest

FORWARDED_HEADERS = ("Content-Type", "Accept")
PASSED_BACK_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Content-Length",
    "Cache-Control",
    "X-Accel-Buffering",
    "ETag",
    "Last-Modified",
)
ACTOR_HEADER = "X-Mlops-Actor"
MAX_ACTOR = 200
"""The daemon refuses longer actor names."""
_ACTOR_SAFE = "".join(c for c in string.punctuation if c != "%") + " "


def actor_name(user: Any) -> str:
    """The name of the Jupyter user ``user`` (a ``User``, a string or None) as an HTTP
    header value: printable ASCII (anything else %-encoded, as header values are Latin-1
    on the wire), at most ``MAX_ACTOR`` characters; '' when there is no name."""
    if isinstance(user, str):
        name = user
    else:
        name = str(getattr(user, "username", "") or getattr(user, "name", "") or "")
    name = name.strip()
    if not (name.isascii() and name.isprintable()):
        name = quote(name, safe=_ACTOR_SAFE)
    return name[:MAX_ACTOR]


JUPYTER_QUERY_ARGS = frozenset({"token", DAEMON_URL_QUERY})
"""Query arguments meant for this server, not the daemon: Jupyter's own credential and
the daemon URL override of links."""


class ProxyHandler(MlopsHandler):
    _upstream: Upstream | None = None
    _began = False
    _content_type = "application/json"

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def patch(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def delete(self, path: str) -> None:
        await self._forward(path)

    def on_connection_close(self) -> None:
        """The browser went away: end the daemon's side too (a followed log would go on)."""
        super().on_connection_close()
        if self._upstream is not None:
            self._upstream.close()

    async def _forward(self, path: str) -> None:
        explicit = self.explicit_daemon_url()
        try:
            target = await asyncio.to_thread(locate, self.lab.config.home, explicit)
        except DaemonDown as exc:
            raise LabError(503, "daemon_unavailable", exc.message) from None
        upstream = Upstream(target.url, self.lab.config.request_timeout)
        self._upstream = upstream
        try:
            await upstream.exchange(self._request_for(target, path), self)
        except Unreachable as exc:
            message = f"the mlops daemon at {target.url} cannot be reached ({exc.message})"
            raise LabError(503, "daemon_unavailable", message) from None
        except NoAnswer as exc:
            raise LabError(504, "daemon_timeout", exc.message) from None
        except BrokenAnswer as exc:
            if not self._began:
                raise LabError(502, "bad_gateway", exc.message) from None
            # The status line is out: all that is left is to let the browser see the cut.
            self.log.warning("mlops: %s %s: %s", self.request.method, self.request.path, exc)
            connection = self.request.connection
            if isinstance(connection, HTTP1Connection):
                connection.close()
        self.finish(set_content_type=self._content_type)

    def _request_for(self, target: DaemonTarget, path: str) -> UpstreamRequest:
        query = self.request.query
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key in JUPYTER_QUERY_ARGS for key, _ in pairs):
            query = urlencode([(k, v) for k, v in pairs if k not in JUPYTER_QUERY_ARGS])
        url = "/api/" + self._raw_path(path) + (f"?{query}" if query else "")
        headers = {"Authorization": f"Bearer {target.token}"}
        for name in FORWARDED_HEADERS:
            value = self.request.headers.get(name)
            if value:
                headers[name] = value
        actor = actor_name(self.current_user)
        if actor:
            headers[ACTOR_HEADER] = actor
        method = self.request.method or "GET"
        return UpstreamRequest(method, url, headers, self.request.body or b"")

    def _raw_path(self, decoded: str) -> str:
        """The path after ``mlops/api/`` as the browser sent it (still %-encoded)."""
        prefix = url_path_join(self.base_url, "mlops/api/")
        raw = self.request.path
        if raw.startswith(prefix):
            return raw[len(prefix) :]
        return quote(decoded, safe="/")

    # -- the Sink the upstream writes to -------------------------------------------

    async def begin(self, code: int, reason: str, headers: HTTPHeaders) -> None:
        self._began = True
        self.set_status(code, reason or None)
        self.clear_header("Content-Type")
        self._content_type = headers.get("Content-Type") or self._content_type
        for name in PASSED_BACK_HEADERS:
            value = headers.get(name)
            if value is not None:
                self.set_header(name, value)
        await self.flush()

    async def chunk(self, data: bytes) -> None:
        self.write(data)
        await self.flush()
