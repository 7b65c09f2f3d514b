"""The CLI's HTTP client: one kept-alive connection, reopened when the daemon closed it."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator

import pytest

from mlops_daemon.client import Client, DaemonAddress
from mlops_daemon.errors import DaemonUnavailable, NotFound


class OneAnswerThenHangUp(socketserver.StreamRequestHandler):
    """Answers one request as if keeping the connection alive, then closes it anyway
    (what a daemon does to an idle connection, or when it restarts)."""

    def handle(self) -> None:
        request_line = self.rfile.readline().decode()
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        self.server.paths.append(request_line.split()[1])  # type: ignore[attr-defined]
        status = "404 Not Found" if "missing" in request_line else "200 OK"
        body = json.dumps({"error": "not_found", "message": "no such run"}).encode()
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        self.wfile.write(head.encode() + body)


@pytest.fixture
def server() -> Iterator[socketserver.ThreadingTCPServer]:
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), OneAnswerThenHangUp)
    srv.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def client_for(srv: socketserver.ThreadingTCPServer) -> Client:
    host, port = srv.server_address[:2]
    return Client(DaemonAddress(url=f"http://{host}:{port}", token="t"))


def test_a_closed_kept_alive_connection_is_reopened(
    server: socketserver.ThreadingTCPServer,
) -> None:
    client = client_for(server)
    for i in range(3):
        assert client.request("GET", f"/api/runs/r{i}") is not None
    assert server.paths == ["/api/runs/r0", "/api/runs/r1", "/api/runs/r2"]  # type: ignore[attr-defined]


def test_errors_still_come_back_as_the_daemons_exceptions(
    server: socketserver.ThreadingTCPServer,
) -> None:
    client = client_for(server)
    client.request("GET", "/health")
    with pytest.raises(NotFound, match="no such run"):
        client.request("GET", "/api/runs/missing")


def test_nobody_listening_says_how_to_start_the_daemon() -> None:
    srv = socketserver.TCPServer(("127.0.0.1", 0), OneAnswerThenHangUp)
    port = srv.server_address[1]
    srv.server_close()
    client = Client(DaemonAddress(url=f"http://127.0.0.1:{port}", token="t"))
    with pytest.raises(DaemonUnavailable, match="mlops daemon start"):
        client.request("GET", "/health")
