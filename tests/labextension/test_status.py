"""``GET mlops/status``: ok, down (and why) or mismatch, plus what the panel needs to know."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from lab_support import FAKE_TOKEN, assert_json_error, body_of, free_port, write_presence
from traitlets import TraitError

from mlops_kernel import __version__
from mlops_labextension.config import MlopsLab

STATUS_KEYS = {
    "state",
    "message",
    "extension_version",
    "daemon_version",
    "daemon_url",
    "root_dir",
    "home",
    "can_start",
}


async def status(api: Any, **headers: str) -> dict[str, Any]:
    response = await api("mlops", "status", headers=headers)
    assert response.code == 200, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    body = body_of(response)
    assert set(body) == STATUS_KEYS
    return dict(body)


async def test_no_daemon_json_is_down(api: Any, mlops_home: Path, jp_root_dir: Path) -> None:
    body = await status(api)
    assert body["state"] == "down"
    assert "no mlops daemon is running" in body["message"]
    assert str(mlops_home) in body["message"]
    assert body["daemon_version"] is None
    assert body["daemon_url"] is None
    assert body["extension_version"] == __version__
    assert body["home"] == str(mlops_home)
    assert body["root_dir"] == os.path.realpath(jp_root_dir)
    assert os.path.isabs(body["root_dir"])
    assert body["can_start"] is True


async def test_a_dead_pid_is_down(api: Any, mlops_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    gone = 2**22 + 12345  # above Linux's default pid_max: no such process
    write_presence(mlops_home, url, pid=gone)
    body = await status(api)
    assert body["state"] == "down"
    assert f"pid {gone}" in body["message"]
    assert "no longer running" in body["message"]
    assert body["daemon_url"] == url


async def test_a_refused_connection_is_down(api: Any, mlops_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    write_presence(mlops_home, url)
    body = await status(api)
    assert body["state"] == "down"
    assert "connection refused" in body["message"]
    assert body["daemon_url"] == url


async def test_a_missing_token_is_down(api: Any, mlops_home: Path, fake_daemon: Any) -> None:
    fake = fake_daemon()
    (mlops_home / "token").unlink()
    body = await status(api)
    assert body["state"] == "down"
    assert "token is missing" in body["message"]
    assert fake.seen == []


async def test_a_rejected_token_is_down(api: Any, mlops_home: Path, raw_upstream: Any) -> None:
    url = await raw_upstream(
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    write_presence(mlops_home, url)
    body = await status(api)
    assert body["state"] == "down"
    assert "rejected the token" in body["message"]


async def test_the_same_version_is_ok(api: Any, fake_daemon: Any) -> None:
    fake = fake_daemon()
    body = await status(api)
    assert body["state"] == "ok", body
    assert body["daemon_version"] == __version__
    assert body["daemon_url"] == fake.url
    assert fake.url in body["message"]
    (info,) = fake.seen
    assert info.path == "/api/info"
    assert info.headers["Authorization"] == f"Bearer {FAKE_TOKEN}"


async def test_another_version_is_a_mismatch(api: Any, fake_daemon: Any) -> None:
    fake_daemon(version="0.0.1-old")
    body = await status(api)
    assert body["state"] == "mismatch"
    assert body["daemon_version"] == "0.0.1-old"
    assert "0.0.1-old" in body["message"]
    assert __version__ in body["message"]
    assert "mlops daemon stop && mlops daemon start" in body["message"]


async def test_a_server_that_is_not_a_daemon_is_down(
    api: Any, mlops_home: Path, raw_upstream: Any
) -> None:
    url = await raw_upstream(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>"
    )
    write_presence(mlops_home, url)
    body = await status(api)
    assert body["state"] == "down"
    assert "is not an mlops daemon" in body["message"]


async def test_the_daemon_url_header_overrides_discovery(
    api: Any, mlops_home: Path, fake_daemon: Any
) -> None:
    fake = fake_daemon(version="9.9.9", presence=False)
    (mlops_home / "token").write_text(FAKE_TOKEN)
    port = fake.url.rsplit(":", 1)[1]
    body = await status(api, **{"X-Mlops-Daemon-Url": f"http://localhost:{port}/"})
    assert body["state"] == "mismatch"
    assert body["daemon_url"] == f"http://localhost:{port}"
    assert len(fake.seen) == 1


async def test_a_link_names_the_daemon_in_its_query_and_the_daemon_never_sees_it(
    api: Any, mlops_home: Path, fake_daemon: Any
) -> None:
    fake = fake_daemon(presence=False)
    (mlops_home / "token").write_text(FAKE_TOKEN)
    response = await api("mlops", "api", "runs", params={"page": "1", "mlops_daemon_url": fake.url})
    assert response.code == 200, response.body
    (seen,) = fake.seen
    assert seen.query == "page=1"
    bad = await api("mlops", "api", "runs", params={"mlops_daemon_url": "http://10.0.0.1:1"})
    assert "mlops_daemon_url" in assert_json_error(bad, 400, "invalid_daemon_url")["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:8765",
        "http://10.0.0.1:8765",
        "https://127.0.0.1:8765",
        "http://127.0.0.1:8765/api",
        "http://user:pw@127.0.0.1:8765",
        "not a url",
        "http://127.0.0.1:99999",
    ],
)
@pytest.mark.parametrize("route", [("mlops", "status"), ("mlops", "api", "runs")])
async def test_a_daemon_url_header_that_is_not_loopback_http_is_a_400(
    api: Any, fake_daemon: Any, url: str, route: tuple[str, ...]
) -> None:
    fake = fake_daemon()
    response = await api(*route, headers={"X-Mlops-Daemon-Url": url})
    body = assert_json_error(response, 400, "invalid_daemon_url")
    assert "X-Mlops-Daemon-Url" in body["message"]
    assert fake.seen == []


@pytest.mark.parametrize("lab_config", [{"allow_start": False}])
async def test_can_start_follows_the_config(api: Any, lab_config: dict[str, Any]) -> None:
    assert (await status(api))["can_start"] is False


async def test_status_needs_a_jupyter_login(api: Any) -> None:
    response = await api("mlops", "status", headers={"Authorization": "token wrong"})
    assert_json_error(response, 403, "forbidden")


# -- configuration -------------------------------------------------------------------


def test_the_home_defaults_to_mlops_home_then_dot_mlops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_HOME", "/srv/mlops-home")
    assert MlopsLab().home == Path("/srv/mlops-home")
    monkeypatch.delenv("MLOPS_HOME")
    assert MlopsLab().home == Path.home() / ".mlops"


def test_a_configured_daemon_url_must_be_http() -> None:
    assert MlopsLab(daemon_url="http://127.0.0.1:8765/").daemon_url == "http://127.0.0.1:8765"
    with pytest.raises(TraitError, match="http://host:port"):
        MlopsLab(daemon_url="ftp://127.0.0.1:8765")
    with pytest.raises(TraitError, match="must be positive"):
        MlopsLab(start_timeout=0)
