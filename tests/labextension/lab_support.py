"""Helpers for the extension tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from support.daemon import kill_run_processes
from tornado.httpclient import HTTPResponse

from mlops_kernel import __version__

FAKE_TOKEN = "fake-daemon-token-0123456789"


def body_of(response: HTTPResponse) -> Any:
    return json.loads(response.body)


def assert_json_error(response: HTTPResponse, status: int, code: str) -> dict[str, Any]:
    assert response.code == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    body = body_of(response)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert body["message"] and "Traceback" not in body["message"]
    return dict(body)


def assert_token_absent(response: HTTPResponse, token: str) -> None:
    assert token.encode() not in (response.body or b"")
    for name, value in response.headers.get_all():
        assert token not in value, f"the daemon token leaked in the {name} header"


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_presence(home: Path, url: str, pid: int | None = None, token: str = FAKE_TOKEN) -> None:
    """What a daemon writes in MLOPS_HOME when it starts: daemon.json and the token."""
    info = {"url": url, "pid": os.getpid() if pid is None else pid, "version": "?"}
    (home / "daemon.json").write_text(json.dumps(info))
    (home / "token").write_text(token + "\n")


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeDaemon:
    """A stand-in daemon that records what it is sent."""

    version: str = __version__
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)


def stop_daemon_of(home: Path) -> None:
    """SIGTERM the daemon recorded in ``home``'s daemon.json and wait until it is gone."""
    try:
        pid = json.loads((home / "daemon.json").read_text())["pid"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        for _ in range(600):
            if proc.status() == psutil.STATUS_ZOMBIE:
                break
            try:
                proc.wait(timeout=0.05)
                break
            except psutil.TimeoutExpired:
                continue
        else:
            proc.kill()
    except psutil.NoSuchProcess:
        pass
    kill_run_processes(home)
