"""The extension in front of a real daemon process (its own MLOPS_HOME, a free port)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lab_support import assert_token_absent, body_of
from support.daemon import DaemonProcess
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from mlops_kernel import __version__

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only"),
]


def token_of(daemon: DaemonProcess) -> str:
    return (daemon.home / "token").read_text().strip()


async def direct(daemon: DaemonProcess, method: str, path: str, body: str | None = None) -> Any:
    """The daemon's own answer, asked directly with its token."""
    response = await AsyncHTTPClient().fetch(
        daemon.url + path,
        method=method,
        body=body,
        headers={"Authorization": f"Bearer {token_of(daemon)}"},
        raise_error=False,
    )
    return response


async def test_status_is_ok_with_both_versions(api: Any, real_daemon: DaemonProcess) -> None:
    response = await api("mlops", "status")
    body = body_of(response)
    assert body["state"] == "ok", body
    assert body["daemon_version"] == body["extension_version"] == __version__
    assert body["daemon_url"] == real_daemon.url
    assert_token_absent(response, token_of(real_daemon))


async def test_runs_come_back_as_the_daemons_run_page(
    api: Any, real_daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "noop.py").write_text("print('noop')\n")
    for _ in range(3):
        real_daemon.submit(project, "noop.py")
    response = await api("mlops", "api", "runs", params={"per_page": "2", "sort": "created_at"})
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    page = body_of(response)
    assert page["total"] == 3
    assert page["per_page"] == 2
    assert len(page["runs"]) == 2
    mine = await direct(real_daemon, "GET", "/api/runs?per_page=2&sort=created_at")
    assert {r["id"] for r in page["runs"]} == {r["id"] for r in json.loads(mine.body)["runs"]}
    assert_token_absent(response, token_of(real_daemon))


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/lint", "{}", 400),
        ("POST", "/lint", "not json", 400),
        ("GET", "/runs/no-such-run", None, 404),
        ("GET", "/no/such/endpoint", None, 404),
        ("GET", "/runs", None, 200),
    ],
)
async def test_the_daemons_answers_pass_through_unchanged(
    api: Any,
    real_daemon: DaemonProcess,
    jp_auth_header: dict[str, str],
    method: str,
    path: str,
    body: str | None,
    status: int,
) -> None:
    # The browser's own Authorization: a Jupyter token (accepted by Jupyter) that the
    # daemon would refuse with a 401 if it were forwarded instead of replaced.
    jupyter_auth = jp_auth_header["Authorization"].replace("token ", "Bearer ", 1)
    response: HTTPResponse = await api(
        "mlops",
        "api",
        *path.strip("/").split("/"),
        method=method,
        body=body,
        headers={"Authorization": jupyter_auth, "Content-Type": "application/json"},
    )
    expected = await direct(real_daemon, method, "/api" + path, body)
    assert response.code == expected.code == status, response.body
    assert json.loads(response.body) == json.loads(expected.body)
    assert response.headers["Content-Type"] == expected.headers["Content-Type"]
    assert_token_absent(response, token_of(real_daemon))


async def test_a_followed_log_streams_the_runs_output_and_ends(
    api: Any, real_daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    script = """
        for i in range(3):
            print(f"line {i} from the run", flush=True)
    """
    (project / "hello.py").write_text(textwrap.dedent(script))
    spec = {"project": str(project), "entry_point": "hello.py"}
    submitted = await api("mlops", "api", "runs", method="POST", body=json.dumps(spec))
    assert submitted.code == 201, submitted.body
    run_id = body_of(submitted)["id"]

    chunks: list[bytes] = []
    response = await api(
        "mlops",
        "api",
        "runs",
        run_id,
        "logs",
        params={"follow": "true"},
        streaming_callback=chunks.append,
        request_timeout=0,  # the run's own pace; pytest-timeout bounds the test
    )
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    text = b"".join(chunks).decode()
    events = [block for block in text.split("\n\n") if block.strip()]
    names = [block.split("\n", 1)[0] for block in events]
    assert names[-1] == "event: end", text
    assert set(names[:-1]) == {"event: log"}, text
    logged = "".join(json.loads(block.split("data: ", 1)[1])["text"] for block in events[:-1])
    assert [f"line {i} from the run" for i in range(3)] == logged.splitlines()
    assert json.loads(events[-1].split("data: ", 1)[1]) == {"status": "succeeded"}
    assert token_of(real_daemon) not in text
