"""A small blocking client for the daemon's REST API (used by the CLI and tests).

Errors come back as the daemon's own exception classes (``errors.py``), so a
404 is a ``NotFound`` with the daemon's message, whatever side raised it.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from mlops_kernel.home_files import read_token

from .config import HomePaths
from .errors import (
    Conflict,
    DaemonUnavailable,
    InvalidInput,
    MlopsError,
    NotFound,
    Unauthorized,
    Unprocessable,
)

_BY_STATUS: dict[int, type[MlopsError]] = {
    400: InvalidInput,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
}

START_HINT = "start it with `mlops daemon start` (or run `mlops demo`, which starts one)"


@dataclass(frozen=True)
class DaemonAddress:
    url: str
    token: str
    pid: int | None = None


def find_daemon(paths: HomePaths) -> DaemonAddress:
    """Where the daemon serving this MLOPS_HOME listens, from the files it keeps there."""
    try:
        info = json.loads(paths.info.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        raise DaemonUnavailable(
            f"no mlops daemon is running for {paths.root}; {START_HINT}"
        ) from None
    token = read_token(paths)
    if not token:
        raise DaemonUnavailable(f"{paths.token} is missing; {START_HINT}")
    return DaemonAddress(url=str(info["url"]), token=token, pid=info.get("pid"))


class Client:
    """Talks to one daemon over one kept-alive connection (opened again when needed).

    Thread-safe: requests from several threads take turns on the connection.
    """

    def __init__(self, address: DaemonAddress, timeout: float = 30.0) -> None:
        parts = urlsplit(address.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = address.token
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self.headers: dict[str, str] = {}
        """Sent with every request besides the token (e.g. ``X-Mlops-Actor``)."""

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        with self._lock:
            reused = self._conn is not None
            try:
                try:
                    status, data = self._exchange(method, path, body, query)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # A kept-alive connection the daemon had closed (idle, or restarted):
                    # the request never reached it, so sending it again is safe.
                    if not reused:
                        raise
                    status, data = self._exchange(method, path, body, query)
            except (OSError, http.client.HTTPException) as exc:
                raise self._unreachable(exc) from exc
        return self._decode(status, data)

    def _exchange(
        self, method: str, path: str, body: Any, query: dict[str, Any] | None
    ) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = self._connect(self.timeout)
        try:
            resp = self._send(self._conn, method, path, body, query)
            data = resp.read()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise
        if resp.will_close:
            self._conn.close()
            self._conn = None
        return resp.status, data

    def events(self, path: str, query: dict[str, Any] | None = None) -> Iterator[tuple[str, str]]:
        """Read a server-sent event stream: yields (event, data) until it ends."""
        conn = self._connect(None)
        try:
            try:
                resp = self._send(conn, "GET", path, None, query)
            except (OSError, http.client.HTTPException) as exc:
                raise self._unreachable(exc) from exc
            if resp.status != 200:
                self._decode(resp.status, resp.read())
            event, data = "message", list[str]()
            for raw in resp:
                line = raw.decode("utf-8").rstrip("\r\n")
                if not line:
                    if data:
                        yield event, "\n".join(data)
                    event, data = "message", []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        finally:
            conn.close()

    def _send(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: Any,
        query: dict[str, Any] | None,
    ) -> http.client.HTTPResponse:
        if query:
            clean = {k: _query_value(v) for k, v in query.items() if v is not None}
            path = f"{path}?{urlencode(clean)}"
        headers = {
            **self.headers,
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        return conn.getresponse()

    def _unreachable(self, exc: Exception) -> DaemonUnavailable:
        return DaemonUnavailable(
            f"could not reach the mlops daemon at {self.host}:{self.port} ({exc}); {START_HINT}"
        )

    @staticmethod
    def _decode(status: int, data: bytes) -> Any:
        try:
            payload = json.loads(data) if data else None
        except json.JSONDecodeError:
            payload = None
        if status < 400:
            return payload
        message = payload.get("message") if isinstance(payload, dict) else None
        error = _BY_STATUS.get(status, MlopsError)
        raise error(message or f"the daemon answered HTTP {status}")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
