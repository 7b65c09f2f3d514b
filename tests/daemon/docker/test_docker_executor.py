"""The Docker executor against a real engine (no mocks): a run in a container end to
end, and each safety rule proven by a run that tries to break it.

Every wait is a bounded poll; no test asserts how fast anything happens.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from support.docker_engine import BASE_IMAGE

from mlops_daemon.config import DaemonConfig, DockerSettings
from mlops_daemon.executors.base import ExecutorError, ExitInfo, Handle, Job, JobState
from mlops_daemon.executors.docker import ENVIRONMENT_FILE, DockerExecutor
from mlops_daemon.executors.docker_container import LABEL_RUN
from mlops_daemon.jobs import build_job, write_run_dir
from mlops_kernel.runfiles import LOG_FILE, METRICS_FILE, read_json
from mlops_kernel.schemas import Resources, RunSpec

pytestmark = [pytest.mark.slow, pytest.mark.docker]
WAIT_S = 120.0


def write_project(root: Path, code: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(textwrap.dedent(code))
    return root


def make_executor(home: Path, base_image: str = BASE_IMAGE) -> DockerExecutor:
    config = DaemonConfig(home=home, docker=DockerSettings(base_image=base_image))
    return DockerExecutor(config)


def make_job(home: Path, project: Path, run_id: str, **spec: Any) -> Job:
    run_spec = RunSpec(project=str(project), entry_point="train.py", **spec)
    config = DaemonConfig(home=home)
    run_dir = home / "runs" / run_id
    write_run_dir(run_dir, run_spec)
    return build_job(config, run_id, run_dir, run_spec)


def wait_exit(executor: DockerExecutor, job: Job, handle: Handle) -> ExitInfo:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        poll = executor.poll(job, handle)
        if poll.state is JobState.EXITED:
            return executor.collect(job, handle)
        assert poll.state is JobState.RUNNING, poll.detail
        time.sleep(0.1)
    pytest.fail(f"run {job.run_id} did not end within {WAIT_S} s")


def run_to_end(executor: DockerExecutor, job: Job) -> ExitInfo:
    executor.prepare(job)
    return wait_exit(executor, job, executor.start(job))


def log_of(job: Job) -> str:
    return (job.run_dir / LOG_FILE).read_text(errors="replace")


def containers_of(client: Any, run_id: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}))


def test_a_run_trains_in_a_container_as_a_non_root_user(docker_client: Any, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        """
        import os, sys
        from mlops_kernel import get_params, log_metric
        lr = float(get_params().get("lr", 0.1))
        w = 0.0
        for step in range(5):
            w += lr * (1.0 - w)
            log_metric("w", w, step=step)
        print("uid", os.getuid(), "python", sys.version_info[:2], "cwd", os.getcwd())
        """,
    )
    job = make_job(tmp_path / "home", project, "ok1", params={"lr": 0.5})
    executor = make_executor(tmp_path / "home")
    info = run_to_end(executor, job)
    assert info.succeeded, log_of(job)
    text = log_of(job)
    assert "uid 0 " not in text and "uid " in text
    assert "cwd /mlops/run/work" in text
    assert "environment image mlops-env:" in text  # built now, or by an earlier test
    lines = (job.run_dir / METRICS_FILE).read_text().splitlines()
    assert len(lines) == 5
    environment = read_json(job.run_dir / ENVIRONMENT_FILE)
    assert environment["executor"] == "docker" and environment["isolation"] == "container"
    assert environment["image"]["tag"].startswith("mlops-env:")
    assert environment["engine"]["server_version"]
    assert containers_of(docker_client, "ok1") == []  # collected means removed

    # The same environment again: the image is reused, not rebuilt.
    again = make_job(tmp_path / "home", project, "ok2", params={"lr": 0.5})
    assert run_to_end(executor, again).succeeded
    assert "is cached" in log_of(again)
    assert (again.run_dir / METRICS_FILE).read_text() != ""


def test_the_network_is_off_unless_the_run_asks(docker_client: Any, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        """
        import socket
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=3).close()
        except OSError as exc:
            print("no network:", exc)
            raise SystemExit(3)
        print("network reached")
        """,
    )
    executor = make_executor(tmp_path / "home")
    job = make_job(tmp_path / "home", project, "net1")
    info = run_to_end(executor, job)
    assert info.returncode == 3, log_of(job)
    assert "no network" in log_of(job)
    inspect = read_json(job.run_dir / ENVIRONMENT_FILE)
    assert inspect["network"] is False


def test_datasets_and_the_project_are_read_only(docker_client: Any, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        """
        import os
        from pathlib import Path
        for target in ("/mlops/project/new.txt", "/etc/new.txt", "/mlops/run/ok.txt"):
            try:
                Path(target).write_text("x")
                print("wrote", target)
            except OSError as exc:
                print("refused", target, exc.errno)
        """,
    )
    executor = make_executor(tmp_path / "home")
    job = make_job(tmp_path / "home", project, "ro1")
    assert run_to_end(executor, job).succeeded, log_of(job)
    text = log_of(job)
    assert "refused /mlops/project/new.txt" in text
    assert "refused /etc/new.txt" in text
    assert "wrote /mlops/run/ok.txt" in text
    assert not (project / "new.txt").exists()


def test_running_out_of_memory_fails_with_that_reason(docker_client: Any, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        """
        blocks = []
        for _ in range(64):
            blocks.append(bytearray(32 * 1024 * 1024))
        print("allocated", len(blocks))
        """,
    )
    executor = make_executor(tmp_path / "home")
    job = make_job(tmp_path / "home", project, "oom1", resources=Resources(memory_mb=128))
    info = run_to_end(executor, job)
    assert info.reason == "memory", (info, log_of(job))
    assert "out of memory" in info.message and "128 MiB" in info.message


def test_cancel_stops_the_container(docker_client: Any, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        """
        import time
        print("started", flush=True)
        time.sleep(600)
        """,
    )
    executor = make_executor(tmp_path / "home")
    job = make_job(tmp_path / "home", project, "cancel1")
    executor.prepare(job)
    handle = executor.start(job)
    deadline = time.monotonic() + WAIT_S
    while "started" not in log_of(job) and time.monotonic() < deadline:
        time.sleep(0.1)
    executor.cancel(job, handle, grace_s=1)
    info = wait_exit(executor, job, handle)
    assert info.reason == "cancelled"
    assert containers_of(docker_client, "cancel1") == []


def test_a_gpu_request_without_a_gpu_runtime_is_a_clear_error(
    docker_client: Any, tmp_path: Path
) -> None:
    if "nvidia" in (docker_client.info().get("Runtimes") or {}):
        pytest.skip("this engine has a GPU runtime")
    project = write_project(tmp_path / "project", "print('hello')\n")
    executor = make_executor(tmp_path / "home")
    job = make_job(tmp_path / "home", project, "gpu1", resources=Resources(gpus=1))
    executor.prepare(job)
    with pytest.raises(ExecutorError, match="no GPU runtime"):
        executor.start(job)
    assert containers_of(docker_client, "gpu1") == []


def test_a_missing_base_image_is_a_clear_error(docker_client: Any, tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", "print('hello')\n")
    executor = make_executor(tmp_path / "home", base_image="local/no-such-image:1")
    job = make_job(tmp_path / "home", project, "base1")
    with pytest.raises(ExecutorError, match="base image 'local/no-such-image:1' is not in"):
        executor.prepare(job)


def test_a_base_image_without_python_is_a_clear_error(docker_client: Any, tmp_path: Path) -> None:
    """A corrupt base image: a filesystem with a shell-less, Python-less single file."""
    payload = b"not an operating system\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("README")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    tag = "local/mlops-test-corrupt:1"
    docker_client.api.import_image_from_data(
        buffer.getvalue(), repository=tag.split(":")[0], tag="1"
    )
    try:
        project = write_project(tmp_path / "project", "print('hello')\n")
        executor = make_executor(tmp_path / "home", base_image=tag)
        job = make_job(tmp_path / "home", project, "corrupt1")
        with pytest.raises(ExecutorError, match="could not build the environment image from"):
            executor.prepare(job)
    finally:
        docker_client.images.remove(tag, force=True)


def test_third_party_packages_come_from_the_lock_and_its_wheelhouse(
    docker_client: Any, tmp_path: Path
) -> None:
    """The module imports ``six`` (installed here): the lock pins this interpreter's
    version, its wheel is gathered on the host and installed offline in the image."""
    import six

    project = write_project(
        tmp_path / "project",
        """
        import six
        print("six", six.__version__, six.__file__)
        """,
    )
    executor = make_executor(tmp_path / "home")
    job = make_job(tmp_path / "home", project, "pkg1")
    info = run_to_end(executor, job)
    assert info.succeeded, log_of(job)
    assert f"six {six.__version__} /opt/mlops/venv/" in log_of(job)
    lock = read_json(job.run_dir / ENVIRONMENT_FILE)["lock"]
    assert [(p["name"], p["version"]) for p in lock["packages"]] == [("six", six.__version__)]
    assert list((tmp_path / "home" / "wheelhouse").glob("six-*.whl"))


def test_an_engine_elsewhere_gets_the_files_copied_and_gives_them_back(
    docker_client: Any, tmp_path: Path
) -> None:
    """transfer=copy, as for a tcp:// or ssh:// engine: nothing is bind-mounted, the project
    and a dataset travel in the run's image, and the run directory comes back."""
    from mlops_daemon.executors.base import MountedDataset

    data = tmp_path / "numbers"
    data.mkdir()
    (data / "n.txt").write_text("1\n2\n3\n")
    project = write_project(
        tmp_path / "project",
        """
        import os, time
        from pathlib import Path
        from mlops_kernel import log_artifact, log_metric
        from mlops_kernel.datasets import dataset_path
        numbers = [int(x) for x in (dataset_path("numbers") / "n.txt").read_text().split()]
        for step, n in enumerate(numbers):
            log_metric("n", n, step=step)
        Path("model.txt").write_text("weights")
        log_artifact("model.txt")
        try:
            Path("/mlops/project/x").write_text("x")
        except OSError:
            print("project is read-only")
        print("sum", sum(numbers), "mounts", sorted(os.listdir("/mlops")))
        """,
    )
    config = DaemonConfig(
        home=tmp_path / "home", docker=DockerSettings(base_image=BASE_IMAGE, transfer="copy")
    )
    executor = DockerExecutor(config)
    job = make_job(tmp_path / "home", project, "copy1")
    job = Job(
        run_id=job.run_id,
        run_dir=job.run_dir,
        spec=job.spec,
        argv=job.argv,
        env=job.env,
        datasets=(MountedDataset("numbers", 1, data, "sha256:x", "ds1"),),
    )
    info = run_to_end(executor, job)
    assert info.succeeded, log_of(job)
    assert "sum 6" in log_of(job) and "project is read-only" in log_of(job)
    assert len((job.run_dir / METRICS_FILE).read_text().splitlines()) == 3
    assert (job.run_dir / "artifacts" / "model.txt").read_text() == "weights"
    environment = read_json(job.run_dir / ENVIRONMENT_FILE)
    assert environment["transfer"] == "copy"
    mounts = docker_client.api.inspect_image(environment["image"]["tag"])  # env image kept
    assert mounts
    assert not docker_client.images.list(name=f"mlops-run:{job.run_id}")
    assert not [v for v in docker_client.volumes.list() if v.name == f"mlops-run-{job.run_id}"]
