"""Gates on a containerised run: ``log_model`` exports and checks the model inside a
container with no network, and the ``tests`` gate runs the module's tests in the
run's own image (a test that only passes there proves where it ran)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess, running_daemon
from support.docker_engine import BASE_IMAGE
from support.gate_project import checks_by_name, gate_report, show, train, write_project

pytestmark = [pytest.mark.slow, pytest.mark.docker]

IN_CONTAINER_TEST = """
import socket
from pathlib import Path


def test_runs_in_the_runs_image_without_network():
    assert Path("/mlops/project/train.py").is_file()
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
    except OSError:
        return
    raise AssertionError("the network is on")
"""

GATES = """
[gates]
onnx_parity = 1e-6

[gates.fairness]
sensitive = ["sex"]
max_demographic_parity_difference = 0.2
"""


@pytest.fixture
def docker_daemon(docker_client: Any, tmp_path: Path) -> Iterator[DaemonProcess]:
    env = {"MLOPS_DOCKER": "auto", "MLOPS_BASE_IMAGE": BASE_IMAGE}
    with running_daemon(tmp_path / "home", extra_env=env) as daemon:
        yield daemon


def test_gates_of_a_containerised_run(docker_daemon: DaemonProcess, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", gates=GATES, tests=IN_CONTAINER_TEST)
    run = train(docker_daemon, project, executor="docker", timeout=900)
    assert run["isolation"] == "container"
    locked = {p["name"] for p in run["environment"]["lock"]["packages"]}
    assert {"skl2onnx", "onnxruntime", "pytest"} <= locked, locked

    report = gate_report(docker_daemon, run["id"], timeout=600)
    checks = checks_by_name(report)
    assert report["passed"], show(report)
    assert checks["tests"]["measured"] == "1 passed", show(report)
    assert "own image mlops-env:" in checks["tests"]["evidence"]
    for name in ("onnx_valid[credit]", "onnx_parity[credit]", "fairness[credit]"):
        assert checks[name]["status"] == "passed", show(report)
    version = docker_daemon.api.request("GET", "/api/models/credit/versions/1")
    assert version["run_id"] == run["id"]
    assert version["signature"]["inputs"][0]["shape"] == [None, 3]
