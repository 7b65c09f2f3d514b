"""Find the daemon: its URL and token, from the files it keeps in MLOPS_HOME.

The daemon writes ``$MLOPS_HOME/daemon.json`` (``{"url", "pid", ...}``) when it
starts and removes it when it stops; its API token is ``$MLOPS_HOME/token``.
These readers are blocking (two tiny files): callers on the event loop run
``locate`` through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mlops_kernel.home_files import HomePaths, read_token

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
START_HINT = "start it with the Start daemon button or `mlops daemon start`"


class BadDaemonUrl(ValueError):
    """A daemon URL that is not acceptable (wrong scheme, not loopback, has a path...)."""


class DaemonDown(Exception):
    """No daemon can be found; ``message`` says why and what to do."""

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url


@dataclass(frozen=True)
class DaemonTarget:
    url: str
    """``http://host:port``, no trailing slash."""
    token: str
    pid: int | None = None


def parse_daemon_url(raw: str, *, loopback_only: bool) -> str:
    """``raw`` as ``http://host[:port]``; raises ``BadDaemonUrl`` with the reason."""
    allowed = "http://127.0.0.1, http://localhost or http://[::1]"
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as exc:
        raise BadDaemonUrl(f"{raw!r} is not a valid URL ({exc})") from None
    if parts.scheme != "http" or not parts.hostname:
        raise BadDaemonUrl(f"{raw!r} is not an http://host:port URL")
    if loopback_only and parts.hostname not in LOOPBACK_HOSTS:
        raise BadDaemonUrl(f"only {allowed} daemon URLs are accepted, not {raw!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BadDaemonUrl(f"{raw!r} must not carry credentials, a query or a fragment")
    if parts.path not in ("", "/"):
        raise BadDaemonUrl(f"{raw!r} must not have a path (the daemon serves /api itself)")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"http://{host}" + (f":{port}" if port is not None else "")


def locate(home: Path, url: str | None = None) -> DaemonTarget:
    """The daemon serving ``home``, or the one at ``url`` when given (a setting).

    Raises ``DaemonDown`` when there is none: no daemon.json, its process is
    gone, or the token is missing.
    """
    paths = HomePaths(home)
    if url is None:
        info_path = paths.info
        try:
            info = json.loads(info_path.read_text())
        except FileNotFoundError:
            raise DaemonDown(f"no mlops daemon is running for {home}; {START_HINT}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DaemonDown(f"{info_path} cannot be read ({exc}); {START_HINT}") from None
        if not isinstance(info, dict) or not isinstance(info.get("url"), str):
            raise DaemonDown(f"{info_path} has no daemon URL; {START_HINT}")
        try:
            url = parse_daemon_url(info["url"], loopback_only=False)
        except BadDaemonUrl as exc:
            raise DaemonDown(f"{info_path}: {exc}") from None
        pid = info.get("pid")
        if isinstance(pid, int) and not pid_alive(pid):
            raise DaemonDown(
                f"the mlops daemon of {home} (pid {pid}) is no longer running; {START_HINT}", url
            )
    else:
        pid = None
    try:
        token = read_token(paths)
    except OSError as exc:
        raise DaemonDown(f"{paths.token} cannot be read ({exc})", url) from None
    if token is None:
        raise DaemonDown(f"{paths.token} is missing; {START_HINT}", url)
    return DaemonTarget(url=url, token=token, pid=pid if isinstance(pid, int) else None)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, and the connection will tell more
    return True
