"""A Jupyter server (pytest-jupyter) with mlops_labextension over a test MLOPS_HOME.

pytest only accepts ``pytest_plugins`` in the top-level conftest, and loading
pytest-jupyter there would give every test of the suite its autouse fixtures
(an event loop, a server clean-up). Importing the plugin here instead scopes
its fixtures and hooks to this directory.

Fakes of the daemon (``fake_daemon``) are small tornado apps on free ports in
the test's own event loop; ``real_daemon`` is the real thing (tests/support).
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403
from support.daemon import DaemonProcess, running_daemon
from tornado.httpclient import HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler
from traitlets.config import Config

from mlops_kernel import __version__

# The helpers module next to this file (tests import it as ``lab_support``), put on
# sys.path explicitly as the root conftest does for tests/support.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from lab_support import FakeDaemon, Seen, stop_daemon_of, write_presence  # noqa: E402


@pytest.fixture
def mlops_home(tmp_path: Path) -> Path:
    home = tmp_path / "mlops_home"
    home.mkdir()
    return home


@pytest.fixture
def lab_config() -> dict[str, Any]:
    """Extra ``c.MlopsLab`` settings; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def jp_server_config(mlops_home: Path, lab_config: dict[str, Any]) -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"mlops_labextension": True},
                "allow_root": True,
            },
            "MlopsLab": {"mlops_home": str(mlops_home), **lab_config},
        }
    )


@pytest.fixture
def api(jp_fetch: Any) -> Callable[..., Awaitable[HTTPResponse]]:
    """``jp_fetch`` that returns error answers instead of raising them."""

    def fetch(*parts: str, **kwargs: Any) -> Awaitable[HTTPResponse]:
        kwargs.setdefault("raise_error", False)
        return jp_fetch(*parts, **kwargs)  # type: ignore[no-any-return]

    return fetch


# -- fake daemons -------------------------------------------------------------------


class _Recorder(RequestHandler):
    def initialize(self, fake: FakeDaemon) -> None:
        self.fake = fake

    def _answer(self, path: str) -> None:
        request = self.request
        self.fake.seen.append(
            Seen(
                method=request.method or "",
                path=request.path,
                query=request.query,
                headers=dict(request.headers),
                body=request.body,
            )
        )
        if path == "info":
            self.finish({"version": self.fake.version, "api_version": "1"})
        elif path == "download":
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_header("Content-Disposition", 'attachment; filename="model.txt"')
            self.finish(b"artifact bytes\n")
        else:
            self.set_status(418 if path == "teapot" else 200)
            self.set_header("Content-Type", "application/x-echo+json")
            self.finish(json.dumps({"path": request.path, "body": request.body.decode()}))

    def get(self, path: str) -> None:
        self._answer(path)

    def post(self, path: str) -> None:
        self._answer(path)

    def put(self, path: str) -> None:
        self._answer(path)

    def patch(self, path: str) -> None:
        self._answer(path)

    def delete(self, path: str) -> None:
        self._answer(path)


class _EndlessStream(RequestHandler):
    """One server-sent event, then nothing until the client goes away."""

    def initialize(self, fake: FakeDaemon) -> None:
        self.fake = fake

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.write("event: log\ndata: first\n\n")
        await self.flush()
        await self.fake.stream_closed.wait()

    def on_connection_close(self) -> None:
        self.fake.stream_closed.set()


@pytest.fixture
def fake_daemon(
    mlops_home: Path, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[Callable[..., FakeDaemon]]:
    """``start(version=..., presence=True)``: a fake daemon on a free port.

    With ``presence`` it is the daemon of ``mlops_home`` (daemon.json, token).
    """
    servers: list[HTTPServer] = []

    def start(version: str = __version__, presence: bool = True) -> FakeDaemon:
        fake = FakeDaemon(version=version)
        app = Application(
            [
                (r"/api/sse", _EndlessStream, {"fake": fake}),
                (r"/api/(.*)", _Recorder, {"fake": fake}),
            ]
        )
        sockets = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        server = HTTPServer(app)
        server.add_sockets(sockets)
        servers.append(server)
        fake.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        if presence:
            write_presence(mlops_home, fake.url)
        return fake

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def raw_upstream(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Any]]:
    """``await start(reply)``: a TCP server that reads a request and sends ``reply`` raw."""
    servers: list[asyncio.Server] = []

    async def start(reply: bytes) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


# -- real daemons ---------------------------------------------------------------------


@pytest.fixture
def real_daemon(mlops_home: Path) -> Iterator[DaemonProcess]:
    """A real daemon serving ``mlops_home`` (stopped afterwards, its runs killed)."""
    with running_daemon(mlops_home, concurrency=1) as proc:
        yield proc


@pytest.fixture
def autostart_home(mlops_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``mlops_home`` for daemons the extension starts: any free port; stopped afterwards."""
    monkeypatch.setenv("MLOPS_PORT", "0")
    yield mlops_home
    stop_daemon_of(mlops_home)
