"""Is the daemon there, and is it the version this extension was built with?

``GET /api/info`` answers with the daemon's version: the same as
``mlops_kernel.__version__`` is "ok", another is "mismatch"; anything that
keeps us from asking (no daemon.json, a dead pid, a refused connection, a
missing or rejected token) is "down", with a message that says which.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.iostream import StreamClosedError

from mlops_kernel import __version__

from .locate import START_HINT, DaemonDown, DaemonTarget, locate

State = Literal["ok", "down", "mismatch"]

INFO_TIMEOUT_S = 10.0
RESTART_HINT = "restart it with `mlops daemon stop && mlops daemon start`"


class StatusBody(TypedDict):
    """The JSON of ``GET mlops/status`` (and of ``POST mlops/daemon/start``)."""

    state: State
    message: str
    extension_version: str
    daemon_version: str | None
    daemon_url: str | None
    root_dir: str
    home: str
    can_start: bool


@dataclass(frozen=True)
class Probe:
    state: State
    message: str
    daemon_version: str | None = None
    daemon_url: str | None = None

    def body(self, *, root_dir: str, home: Path, can_start: bool) -> StatusBody:
        return StatusBody(
            state=self.state,
            message=self.message,
            extension_version=__version__,
            daemon_version=self.daemon_version,
            daemon_url=self.daemon_url,
            root_dir=root_dir,
            home=str(home),
            can_start=can_start,
        )


async def probe_daemon(home: Path, url: str | None, timeout: float = INFO_TIMEOUT_S) -> Probe:
    """The daemon's state: the one at ``url`` if given, else the one serving ``home``."""
    try:
        target = await asyncio.to_thread(locate, home, url)
    except DaemonDown as exc:
        return Probe("down", exc.message, daemon_url=exc.url)
    return await probe_target(target, home, timeout)


async def probe_target(target: DaemonTarget, home: Path, timeout: float) -> Probe:
    url = target.url
    try:
        response = await AsyncHTTPClient().fetch(
            f"{url}/api/info",
            headers={"Authorization": f"Bearer {target.token}", "Accept": "application/json"},
            connect_timeout=timeout,
            request_timeout=timeout,
            follow_redirects=False,
            raise_error=False,
        )
    except HTTPClientError:  # a timeout: the only HTTPClientError raise_error=False lets out
        message = f"the mlops daemon at {url} did not answer within {timeout:g} s"
        return Probe("down", message, None, url)
    except (OSError, StreamClosedError) as exc:
        reason = describe_connection_error(exc)
        message = f"the mlops daemon at {url} cannot be reached ({reason}); {START_HINT}"
        return Probe("down", message, None, url)
    if response.code == 401:
        message = (
            f"the daemon at {url} rejected the token in {home / 'token'} (is it the daemon of "
            f"another MLOPS_HOME?); check the daemon URL setting or {RESTART_HINT}"
        )
        return Probe("down", message, None, url)
    version = _version_of(response.body) if response.code == 200 else None
    if version is None:
        message = f"{url} is not an mlops daemon (GET /api/info answered HTTP {response.code})"
        return Probe("down", message, None, url)
    if version != __version__:
        message = (
            f"the mlops daemon at {url} is version {version} but this JupyterLab extension is "
            f"version {__version__}; {RESTART_HINT}"
        )
        return Probe("mismatch", message, version, url)
    return Probe("ok", f"connected to mlops daemon {version} at {url}", version, url)


def _version_of(body: bytes) -> str | None:
    try:
        info = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    version = info.get("version") if isinstance(info, dict) else None
    return version if isinstance(version, str) and version else None


def describe_connection_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, StreamClosedError):
        if exc.real_error is not None:
            return describe_connection_error(exc.real_error)
        return "the connection was closed"
    return str(exc) or type(exc).__name__
