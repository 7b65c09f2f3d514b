"""Remote engines: the daemon talks to dockerd over tcp:// with mutual TLS, and over
ssh:// (as for an engine on another machine), so the run's files travel through the API,
not bind mounts.

``tests/run.sh`` starts dockerd with a TCP listener and throwaway certificates and
exports ``MLOPS_TEST_DOCKER_TCP`` and ``MLOPS_TEST_DOCKER_TLS``; without them (an engine
someone else started) the TLS test skips and says why. The ssh test runs its own sshd
(``support/ssh_engine.py``).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess, running_daemon
from support.docker_engine import BASE_IMAGE
from support.runs import full_log
from support.ssh_engine import SshEngine

pytestmark = [pytest.mark.slow, pytest.mark.docker]


@pytest.fixture
def tls_daemon(docker_client: Any, tmp_path: Path) -> Iterator[DaemonProcess]:
    host = os.environ.get("MLOPS_TEST_DOCKER_TCP")
    certs = os.environ.get("MLOPS_TEST_DOCKER_TLS")
    if not host or not certs:
        why = "no dockerd with a TLS listener (tests/run.sh starts one when it starts dockerd)"
        print(f"\nskipping the remote-engine test: {why}")
        pytest.skip(why)
    env = {
        "MLOPS_DOCKER": "auto",
        "MLOPS_BASE_IMAGE": BASE_IMAGE,
        "DOCKER_HOST": host,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": certs,
    }
    with running_daemon(tmp_path / "home", extra_env=env) as daemon:
        yield daemon


@pytest.fixture
def ssh_daemon(ssh_engine: SshEngine, tmp_path: Path) -> Iterator[DaemonProcess]:
    env = {
        "MLOPS_DOCKER": "auto",
        "MLOPS_BASE_IMAGE": BASE_IMAGE,
        "DOCKER_HOST": ssh_engine.docker_host,
        "PATH": ssh_engine.path,
    }
    with running_daemon(tmp_path / "home", extra_env=env) as daemon:
        yield daemon


def test_a_tls_engine_runs_the_module_with_its_files_copied(
    tls_daemon: DaemonProcess, tmp_path: Path
) -> None:
    engine = train_remotely(tls_daemon, tmp_path)
    assert engine["host"].startswith("tcp://")


def test_an_ssh_engine_runs_the_module_with_its_files_copied(
    ssh_daemon: DaemonProcess, tmp_path: Path
) -> None:
    engine = train_remotely(ssh_daemon, tmp_path)
    assert engine["host"].startswith("ssh://")


def train_remotely(daemon: DaemonProcess, tmp_path: Path) -> dict[str, Any]:
    """Train a module that reads a dataset and logs a metric and an artifact; return the
    engine its run recorded."""
    data = tmp_path / "numbers"
    data.mkdir()
    (data / "n.txt").write_text("4\n5\n6\n")
    daemon.cli("data", "add", str(data), "--name", "numbers", check=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path
            from mlops_kernel import log_artifact, log_metric
            from mlops_kernel.datasets import dataset_path
            numbers = [int(x) for x in (dataset_path("numbers") / "n.txt").read_text().split()]
            log_metric("total", sum(numbers))
            Path("model.txt").write_text("weights")
            log_artifact("model.txt")
            print("trained on", numbers)
            """
        )
    )
    run = daemon.submit(project, "train.py", datasets=["numbers"])
    assert run["executor"] == "docker"
    done = daemon.wait(run["id"])
    log = full_log(daemon, run["id"])
    assert done["status"] == "succeeded", log
    assert "trained on [4, 5, 6]" in log
    assert done["metrics"] == {"total": 15.0}
    assert [a["path"] for a in done["artifacts"]] == ["model.txt"]
    engine: dict[str, Any] = done["environment"]["engine"]
    assert engine["remote"] is True
    assert done["environment"]["transfer"] == "copy"
    return engine
