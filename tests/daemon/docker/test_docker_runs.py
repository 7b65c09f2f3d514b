"""Containerised runs through a real daemon and a real Docker engine: ``auto`` choosing
Docker, a SIGKILLed daemon reattaching to its container, identical metrics for one
identity, the cache hit, ``mlops reproduce``, and datasets mounted read-only."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess, running_daemon
from support.docker_engine import BASE_IMAGE
from support.runs import full_log, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.docker]

TRAIN = """
import random
from mlops_kernel import get_params, log_metric

params = get_params()
rng = random.Random(int(params.get("seed", 0)))
w = 0.0
for step in range(int(params.get("steps", 20))):
    x = rng.random()
    w += float(params.get("lr", 0.1)) * (x - w)
    log_metric("loss", (x - w) ** 2, step=step)
log_metric("w", w)
print("trained w =", w)
"""


@pytest.fixture
def docker_daemon(docker_client: Any, tmp_path: Path) -> Iterator[DaemonProcess]:
    env = {"MLOPS_DOCKER": "auto", "MLOPS_BASE_IMAGE": BASE_IMAGE}
    with running_daemon(tmp_path / "home", extra_env=env) as daemon:
        yield daemon


def write_project(root: Path, code: str = TRAIN) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(textwrap.dedent(code))
    return root


def metrics_of(daemon: DaemonProcess, run_id: str) -> dict[str, Any]:
    data = daemon.api.request("GET", f"/api/runs/{run_id}/metrics")
    return {s["key"]: (s["steps"], s["values"]) for s in data["series"]}


def test_auto_runs_in_a_container_and_records_where(
    docker_daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project")
    run = docker_daemon.submit(project, "train.py", params={"lr": 0.3})
    assert run["executor"] == "docker" and run["isolation"] == "container"
    done = docker_daemon.wait(run["id"])
    assert done["status"] == "succeeded", full_log(docker_daemon, run["id"])
    environment = done["environment"]
    assert environment["image"]["tag"].startswith("mlops-env:")
    assert environment["engine"]["host"]
    assert environment["lock"]["python"] == "3.11"
    assert done["identity"]
    shown = docker_daemon.cli("runs", "show", run["id"], check=True).stdout
    assert "docker" in shown and "container" in shown
    info = docker_daemon.api.request("GET", "/api/info")
    assert "docker" in info["executors"]


def start_waiting_run(daemon: DaemonProcess, tmp_path: Path, then: str) -> tuple[Path, str]:
    """Submit a container run that waits for ``project/go`` and then runs ``then``; return
    the project and the run id once the run's output says it is waiting."""
    waiting = """
        import os, time
        from mlops_kernel import log_metric
        print("waiting for go", flush=True)
        while not os.path.exists("/mlops/project/go"):
            time.sleep(0.1)
        """
    project = write_project(tmp_path / "project", textwrap.dedent(waiting) + then)
    run_id = daemon.submit(project, "train.py", executor="docker")["id"]
    wait_for(
        "the container to start",
        lambda: "waiting for go" in full_log(daemon, run_id),
        daemon,
        timeout_s=120,
    )
    return project, run_id


def test_a_killed_daemon_reattaches_to_its_container(
    docker_daemon: DaemonProcess, tmp_path: Path
) -> None:
    project, run_id = start_waiting_run(
        docker_daemon, tmp_path, 'log_metric("after_restart", 1.0)\nprint("done")\n'
    )
    docker_daemon.kill()
    docker_daemon.start()
    (project / "go").write_text("")
    done = docker_daemon.wait(run_id)
    assert done["status"] == "succeeded", docker_daemon.log_tail()
    assert done["metrics"] == {"after_restart": 1.0}


def test_a_run_that_ended_while_the_daemon_was_down_is_collected(
    docker_daemon: DaemonProcess, docker_client: Any, tmp_path: Path
) -> None:
    project, run_id = start_waiting_run(
        docker_daemon, tmp_path, 'log_metric("finished_alone", 2.0)\nraise SystemExit(3)\n'
    )
    docker_daemon.kill()
    (project / "go").write_text("")
    label = {"label": f"io.jupyter-mlops.run={run_id}"}
    wait_for(
        "the container to exit while no daemon watches it",
        lambda: all(
            c.status == "exited" for c in docker_client.containers.list(all=True, filters=label)
        ),
        docker_daemon,
        timeout_s=120,
    )
    docker_daemon.start()
    done = docker_daemon.wait(run_id)
    assert done["status"] == "failed" and done["exit_code"] == 3, done["status_reason"]
    assert done["metrics"] == {"finished_alone": 2.0}
    assert docker_client.containers.list(all=True, filters=label) == []


def test_one_identity_gives_identical_metrics_a_cache_hit_and_a_reproduction(
    docker_daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project")
    spec: dict[str, Any] = {"params": {"seed": 7, "lr": 0.2}, "executor": "docker"}
    first = docker_daemon.wait(docker_daemon.submit(project, "train.py", **spec)["id"])
    assert first["status"] == "succeeded", full_log(docker_daemon, first["id"])

    hit = docker_daemon.submit(project, "train.py", **spec)
    assert hit["id"] == first["id"]  # the cache answered with the run itself

    forced = docker_daemon.wait(docker_daemon.submit(project, "train.py", force=True, **spec)["id"])
    assert forced["id"] != first["id"] and forced["status"] == "succeeded"
    assert forced["identity"] == first["identity"]
    assert metrics_of(docker_daemon, forced["id"]) == metrics_of(docker_daemon, first["id"])

    out = docker_daemon.cli("reproduce", first["id"], "--json", check=True, timeout=300)
    verdict = json.loads(out.stdout)
    assert verdict["verdict"] == "reproduced", verdict
    assert verdict["same_identity"] is True
    assert {m["key"] for m in verdict["metrics"]} == {"loss", "w"}

    # A different seed is a different identity: no cache hit.
    other = docker_daemon.submit(project, "train.py", params={"seed": 8, "lr": 0.2})
    assert other["id"] != first["id"]
    docker_daemon.wait(other["id"])


def test_a_dataset_is_mounted_read_only(docker_daemon: DaemonProcess, tmp_path: Path) -> None:
    data = tmp_path / "iris"
    data.mkdir()
    (data / "iris.csv").write_text("x,y\n1,2\n3,4\n")
    docker_daemon.cli("data", "add", str(data), "--name", "iris", check=True)
    project = write_project(
        tmp_path / "project",
        """
        from mlops_kernel import log_metric
        from mlops_kernel.datasets import dataset_path
        root = dataset_path("iris")
        rows = (root / "iris.csv").read_text().splitlines()[1:]
        log_metric("rows", len(rows))
        try:
            (root / "new.csv").write_text("x")
            print("wrote into the dataset")
        except OSError as exc:
            print("dataset is read-only:", exc.errno)
        """,
    )
    run = docker_daemon.submit(project, "train.py", executor="docker", datasets=["iris"])
    done = docker_daemon.wait(run["id"])
    log = full_log(docker_daemon, run["id"])
    assert done["status"] == "succeeded", log
    assert done["metrics"] == {"rows": 2.0}
    assert "dataset is read-only" in log
    assert not (data / "new.csv").exists()
    assert done["datasets"] == ["iris@1"]
