"""``mlops/api/*`` against fake daemons: what is forwarded, what comes back, what breaks.

The fakes record every request they get, so these tests see exactly what the
daemon would see.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.identity import User
from jupyter_server.utils import url_path_join
from lab_support import (
    FAKE_TOKEN,
    assert_json_error,
    assert_token_absent,
    body_of,
    free_port,
    write_presence,
)
from tornado.simple_httpclient import HTTPStreamClosedError

METHODS_WITH_BODY = ["POST", "PUT", "PATCH"]


@pytest.mark.parametrize("method", ["GET", "DELETE", *METHODS_WITH_BODY])
async def test_the_request_is_forwarded_with_the_token_and_nothing_of_the_browsers(
    api: Any, fake_daemon: Any, method: str
) -> None:
    fake = fake_daemon()
    body = json.dumps({"notebook": "/x.ipynb"}) if method in METHODS_WITH_BODY else None
    response = await api(
        "mlops",
        "api",
        "runs",
        "r 1",
        method=method,
        body=body,
        params={"page": "2", "sort": "metrics.loss"},
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Cookie": "_xsrf=abc; username-x=secret-cookie",
            "X-XSRFToken": "abc",
            "X-Custom": "not for the daemon",
        },
        allow_nonstandard_methods=True,
    )
    assert response.code == 200, response.body
    (seen,) = fake.seen
    assert seen.method == method
    assert seen.path == "/api/runs/r%201"  # as the browser encoded it
    assert seen.query == "page=2&sort=metrics.loss"
    assert seen.body == (body or "").encode()
    assert seen.headers["Authorization"] == f"Bearer {FAKE_TOKEN}"
    if body:
        assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    for name in ("Cookie", "X-Xsrftoken", "X-Custom"):
        assert name not in seen.headers
    assert response.headers["Content-Type"] == "application/x-echo+json"
    assert body_of(response)["path"] == "/api/runs/r%201"
    assert_token_absent(response, FAKE_TOKEN)


async def test_the_jupyter_token_in_the_query_is_not_forwarded(
    api: Any, fake_daemon: Any, jp_serverapp: Any
) -> None:
    fake = fake_daemon()
    jupyter_token = jp_serverapp.identity_provider.token
    response = await api(
        "mlops",
        "api",
        "runs",
        params={"token": jupyter_token, "page": "1"},
        headers={"Authorization": ""},
    )
    assert response.code == 200, response.body
    (seen,) = fake.seen
    assert seen.query == "page=1"
    assert jupyter_token not in json.dumps(seen.headers)


async def test_status_and_content_type_come_back_as_sent(api: Any, fake_daemon: Any) -> None:
    fake_daemon()
    response = await api("mlops", "api", "teapot")
    assert response.code == 418
    assert response.headers["Content-Type"] == "application/x-echo+json"
    assert body_of(response)["path"] == "/api/teapot"


async def test_a_download_keeps_its_content_disposition(api: Any, fake_daemon: Any) -> None:
    fake_daemon()
    response = await api("mlops", "api", "download")
    assert response.code == 200
    assert response.body == b"artifact bytes\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="model.txt"'


async def test_an_event_stream_flows_and_ends_when_the_browser_leaves(
    fake_daemon: Any,
    http_server_client: Any,  # serves the Jupyter server on jp_http_port
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
) -> None:
    """The fake's stream never ends by itself: the first event arriving shows the
    answer is relayed as it comes, and the fake seeing its client go shows the
    extension ended the daemon's side when the browser left."""
    fake = fake_daemon()
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    path = url_path_join(jp_base_url, "mlops/api/sse")
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {jp_auth_header['Authorization']}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"content-type: text/event-stream" in head.lower()
    await reader.readuntil(b"event: log\ndata: first\n\n")
    assert not fake.stream_closed.is_set()
    writer.close()
    await writer.wait_closed()
    await fake.stream_closed.wait()


async def test_no_daemon_json_is_a_503(api: Any) -> None:
    body = assert_json_error(await api("mlops", "api", "runs"), 503, "daemon_unavailable")
    assert "no mlops daemon is running" in body["message"]


async def test_a_refused_connection_is_a_503(api: Any, mlops_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    write_presence(mlops_home, url)
    response = await api("mlops", "api", "runs", method="POST", body="{}")
    body = assert_json_error(response, 503, "daemon_unavailable")
    assert url in body["message"]
    assert "connection refused" in body["message"]


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (b"", "closed the connection without answering"),
        (b"this is not HTTP\r\n\r\n", "not valid HTTP"),
    ],
    ids=["closed", "garbage"],
)
async def test_a_broken_upstream_is_a_502(
    api: Any, mlops_home: Path, raw_upstream: Any, reply: bytes, fragment: str
) -> None:
    write_presence(mlops_home, await raw_upstream(reply))
    body = assert_json_error(await api("mlops", "api", "runs"), 502, "bad_gateway")
    assert fragment in body["message"]


async def test_an_answer_cut_short_is_cut_for_the_browser_too(
    api: Any, mlops_home: Path, raw_upstream: Any
) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npartial"
    write_presence(mlops_home, await raw_upstream(reply))
    # The browser sees a broken response, not a short success.
    with pytest.raises(HTTPStreamClosedError):
        await api("mlops", "api", "runs", "r1", "artifacts", "model.bin")


@pytest.mark.parametrize(
    ("username", "expected"),
    [("ada.lovelace", "ada.lovelace"), ("Zoë Ünal", "Zo%C3%AB %C3%9Cnal")],
    ids=["ascii", "non-ascii"],
)
async def test_the_actor_is_the_jupyter_user_never_the_browsers_choice(
    api: Any,
    fake_daemon: Any,
    jp_serverapp: Any,
    monkeypatch: pytest.MonkeyPatch,
    username: str,
    expected: str,
) -> None:
    """Model promotions record who made them: the logged-in user, not what the page says."""
    fake = fake_daemon()

    original = jp_serverapp.identity_provider.get_user

    async def get_user(handler: Any) -> User | None:
        # The real check (the test's token) runs; only the name it finds is replaced.
        user = original(handler)
        if inspect.isawaitable(user):
            user = await user
        return None if user is None else User(username=username)

    monkeypatch.setattr(jp_serverapp.identity_provider, "get_user", get_user)
    body = json.dumps({"version": 1, "alias": "staging"})
    response = await api(
        "mlops",
        "api",
        "models",
        "iris",
        "promote",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json", "X-Mlops-Actor": "mallory"},
    )
    assert response.code == 200, response.body
    (seen,) = fake.seen
    assert seen.path == "/api/models/iris/promote"
    assert seen.headers["X-Mlops-Actor"] == expected
    assert "mallory" not in json.dumps(seen.headers)
