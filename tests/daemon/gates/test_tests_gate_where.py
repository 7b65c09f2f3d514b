"""Where the ``tests`` gate runs a run's tests: with the training Python for a local
run, in the run's own image for a container run on this machine's engine, and with
the daemon's Python (said so) when the run's image or project copy cannot be used."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mlops_daemon.executors.base import ExecutorError, Job
from mlops_daemon.gates.runner import GateRunner
from mlops_kernel.schemas import RunDetail, RunSpec


class FakeDocker:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[str, list[str], float]] = []

    def run_in_environment(self, job: Job, argv: list[str], timeout_s: float) -> tuple[int, str]:
        self.calls.append((job.run_id, argv, timeout_s))
        if self.fail:
            raise ExecutorError("the run's image mlops-env:abc is gone from the engine")
        return 0, "1 passed in 0.01s"


def gate_runner(executors: dict[str, Any]) -> GateRunner:
    runs = SimpleNamespace(executors=executors)
    db = SimpleNamespace(store=None)
    return GateRunner(db, runs)  # type: ignore[arg-type]


def run(executor: str, environment: dict[str, Any] | None, tmp_path: Path) -> RunDetail:
    spec = RunSpec(project=str(tmp_path), entry_point="train.py")
    return RunDetail.model_construct(
        id="r1", executor=executor, environment=environment, run_dir=str(tmp_path), spec=spec
    )


def test_a_local_run_is_tested_with_the_training_python(tmp_path: Path) -> None:
    runner, where = gate_runner({"docker": FakeDocker()})._test_runner(run("local", None, tmp_path))
    assert runner is None and "Python that ran the training" in where


def test_a_container_run_is_tested_in_its_own_image(tmp_path: Path) -> None:
    docker = FakeDocker()
    environment = {"transfer": "bind", "image": {"tag": "mlops-env:abc"}}
    runner, where = gate_runner({"docker": docker})._test_runner(
        run("docker", environment, tmp_path)
    )
    assert runner is not None and "own image mlops-env:abc" in where
    assert runner(["python", "-m", "pytest"], 60.0) == (0, "1 passed in 0.01s")
    assert docker.calls == [("r1", ["python", "-m", "pytest"], 60.0)]


def test_a_gone_image_fails_the_tests_with_the_reason(tmp_path: Path) -> None:
    environment = {"transfer": "bind", "image": {"tag": "mlops-env:abc"}}
    runner, _ = gate_runner({"docker": FakeDocker(fail=True)})._test_runner(
        run("docker", environment, tmp_path)
    )
    assert runner is not None
    code, output = runner(["python"], 1.0)
    assert code == 1 and "gone from the engine" in output


def test_a_remote_or_unavailable_engine_falls_back_and_says_so(tmp_path: Path) -> None:
    copied = {"transfer": "copy", "image": {"tag": "mlops-env:abc"}}
    runner, where = gate_runner({"docker": FakeDocker()})._test_runner(
        run("docker", copied, tmp_path)
    )
    assert runner is None and "remote engine" in where
    runner, where = gate_runner({})._test_runner(run("docker", {"transfer": "bind"}, tmp_path))
    assert runner is None and "Docker is not available" in where
