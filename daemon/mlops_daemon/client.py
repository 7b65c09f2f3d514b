"""A small blocking client for the daemon's REST API (used by the CLI and tests).

Errors come back as the daemon's own exception classes (``errors.py``), so a
404 is a ``NotFound`` with the daemon's message, whatever side raised it.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from .config import HomePaths
from .errors import (
    Conflict,
    DaemonUnavailable,
    InvalidInput,
    MlopsError,
    NotFound,
    Unauthorized,
)
from .home import read_token

_BY_STATUS: dict[int, type[MlopsError]] = {
    400: InvalidInput,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
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
    def __init__(self, address: DaemonAddress, timeout: float = 30.0) -> None:
        parts = urlsplit(address.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = address.token
        self.timeout = timeout

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        conn = self._connect(self.timeout)
        try:
            resp = self._send(conn, method, path, body, query)
            data = resp.read()
        finally:
            conn.close()
        return self._decode(resp.status, data)

    def events(self, path: str, query: dict[str, Any] | None = None) -> Iterator[tuple[str, str]]:
        """Read a server-sent event stream: yields (event, data) until it ends."""
        conn = self._connect(None)
        try:
            resp = self._send(conn, "GET", path, None, query)
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
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            return conn.getresponse()
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise DaemonUnavailable(
                f"could not reach the mlops daemon at {self.host}:{self.port} ({exc}); {START_HINT}"
            ) from exc

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
