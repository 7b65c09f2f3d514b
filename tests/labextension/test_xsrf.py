"""A browser session (login cookie) must prove XSRF on every state-changing call.

jupyter-server checks it for us because every handler is an ``APIHandler``; this
shows it holds for the forwarded API and the start endpoint, so a page on another
site cannot make the user's browser submit runs or start the daemon.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

Call = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def call(http_server_client: Any, jp_serverapp: Any) -> Call:
    """A raw request to the running server with exactly the headers given (no token)."""

    def fetch(path: str, method: str, headers: dict[str, str], body: str | None = None) -> Any:
        return http_server_client.fetch(
            path, method=method, headers=headers, body=body, raise_error=False,
            follow_redirects=False,
        )  # fmt: skip

    return fetch


async def browser_cookies(call: Call, base: str, token: str) -> dict[str, str]:
    """Log in as a browser does (the token once in the URL) and keep the cookies."""
    response = await call(f"{base}mlops/status?token={token}", "GET", {})
    assert response.code == 200, response.body
    jar: dict[str, str] = {}
    for header in response.headers.get_list("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        jar.update({name: morsel.value for name, morsel in cookie.items()})
    assert any(name.startswith("username-") for name in jar), jar
    return jar


async def test_posts_from_a_browser_session_need_the_xsrf_token(
    call: Call, jp_serverapp: Any, jp_base_url: str
) -> None:
    base = jp_base_url
    jar = await browser_cookies(call, base, jp_serverapp.identity_provider.token)
    login = "; ".join(f"{k}={v}" for k, v in jar.items() if k.startswith("username-"))
    json_body = {"Content-Type": "application/json"}

    for path in ("mlops/api/lint", "mlops/daemon/start", "mlops/api/runs"):
        forged = await call(f"{base}{path}", "POST", {"Cookie": login, **json_body}, "{}")
        assert forged.code == 403, (path, forged.code, forged.body)

    xsrf = "0123456789abcdef"
    proven = await call(
        f"{base}mlops/api/lint",
        "POST",
        {"Cookie": f"{login}; _xsrf={xsrf}", "X-XSRFToken": xsrf, **json_body},
        "{}",
    )
    # Past the XSRF check: no daemon runs for this home, so the proxy says so.
    assert proven.code == 503, proven.body
    # A plain GET needs no XSRF proof.
    listed = await call(f"{base}mlops/api/runs", "GET", {"Cookie": login})
    assert listed.code == 503, listed.body
