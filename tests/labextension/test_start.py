"""``POST mlops/daemon/start``: start the daemon from JupyterLab (real processes)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from lab_support import assert_json_error, body_of

from mlops_kernel import __version__


async def start(api: Any) -> Any:
    # The daemon's own pace; pytest-timeout bounds the test.
    return await api("mlops", "daemon", "start", method="POST", body=b"", request_timeout=0)


@pytest.mark.parametrize("lab_config", [{"allow_start": False}])
async def test_starting_is_a_403_when_the_config_forbids_it(
    api: Any, mlops_home: Path, lab_config: dict[str, Any]
) -> None:
    body = assert_json_error(await start(api), 403, "start_not_allowed")
    assert "allow_start" in body["message"]
    assert not (mlops_home / "daemon.log").exists()


async def test_a_running_daemon_of_another_version_is_left_alone(
    api: Any, mlops_home: Path, fake_daemon: Any
) -> None:
    fake_daemon(version="0.0.1-old")
    response = await start(api)
    assert response.code == 200
    body = body_of(response)
    assert body["state"] == "mismatch"
    assert "mlops daemon stop && mlops daemon start" in body["message"]
    assert not (mlops_home / "daemon.log").exists()  # nothing was started


def listening_lines(home: Path) -> list[str]:
    """One line per daemon that came up over ``home`` (it prints this when it listens)."""
    log = (home / "daemon.log").read_text()
    return re.findall(r"^mlops daemon listening on .*$", log, flags=re.MULTILINE)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the daemon's executor is Linux-only")
async def test_start_brings_a_daemon_up_and_status_turns_ok(api: Any, autostart_home: Path) -> None:
    before = body_of(await api("mlops", "status"))
    assert before["state"] == "down"
    assert before["can_start"] is True

    response = await start(api)
    assert response.code == 200, response.body
    started = body_of(response)
    assert started["state"] == "ok", started
    assert started["daemon_version"] == __version__
    info = json.loads((autostart_home / "daemon.json").read_text())
    assert started["daemon_url"] == info["url"]

    after = body_of(await api("mlops", "status"))
    assert after["state"] == "ok"
    assert after["daemon_url"] == info["url"]
    runs = await api("mlops", "api", "runs")
    assert runs.code == 200
    assert body_of(runs)["total"] == 0

    again = body_of(await start(api))  # already running: nothing new is started
    assert again["state"] == "ok"
    assert json.loads((autostart_home / "daemon.json").read_text())["pid"] == info["pid"]
    assert len(listening_lines(autostart_home)) == 1


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the daemon's executor is Linux-only")
async def test_concurrent_starts_share_one_daemon(api: Any, autostart_home: Path) -> None:
    answers = await asyncio.gather(start(api), start(api), start(api))
    bodies = [body_of(answer) for answer in answers]
    assert [answer.code for answer in answers] == [200, 200, 200], bodies
    assert {body["state"] for body in bodies} == {"ok"}
    assert len({body["daemon_url"] for body in bodies}) == 1
    assert len(listening_lines(autostart_home)) == 1
    assert "already serving" not in (autostart_home / "daemon.log").read_text()


@pytest.mark.slow
async def test_a_daemon_that_cannot_start_is_a_500_with_the_reason(
    api: Any, autostart_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("MLOPS_PORT", str(port))
        response = await start(api)
    assert response.code == 500
    body = body_of(response)
    assert body["error"] == "daemon_start_failed"
    summary, _, log_tail = body["message"].partition("\n")
    assert summary.startswith("`mlops daemon start` failed (exit code 1)")
    assert f"port {port} is taken" in summary
    assert "Address already in use" in log_tail  # the daemon's own words
    assert not (autostart_home / "daemon.json").exists()
    status = body_of(await api("mlops", "status"))
    assert status["state"] == "down"
