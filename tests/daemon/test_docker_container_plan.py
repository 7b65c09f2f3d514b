"""The container a run gets, as data: its safety rules hold for every spec (no engine needed)."""

from __future__ import annotations

from pathlib import Path

from mlops_daemon.executors.base import Job, MountedDataset
from mlops_daemon.executors.docker_container import (
    DATA_DIR,
    PROJECT_DIR,
    RUN_DIR,
    container_command,
    container_environment,
    create_kwargs,
)
from mlops_kernel.schemas import Resources, RunSpec


def job(tmp_path: Path, **spec: object) -> Job:
    project = tmp_path / "project"
    run_dir = tmp_path / "home" / "runs" / "r1"
    run_spec = RunSpec(project=str(project), entry_point="train.py", **spec)  # type: ignore[arg-type]
    return Job(
        run_id="r1",
        run_dir=run_dir,
        spec=run_spec,
        argv=["/usr/bin/python3", str(project / "train.py"), "--out", str(run_dir / "x")],
        env={
            "PATH": "/host/bin",
            "HOME": "/root",
            "MLOPS_RUN_DIR": str(run_dir),
            "PYTHONPATH": str(project),
            "LANG": "C.UTF-8",
            "LR": "0.1",
        },
        datasets=(MountedDataset("iris", 2, tmp_path / "iris", "sha256:abc", "d1"),),
    )


def test_host_paths_become_container_paths(tmp_path: Path) -> None:
    j = job(tmp_path)
    command = container_command(j)
    assert command[:2] == ["/bin/sh", "-c"] and ">>/mlops/run/output.log 2>&1" in command[2]
    assert command[4:] == ["python", f"{PROJECT_DIR}/train.py", "--out", f"{RUN_DIR}/x"]
    env = container_environment(j)
    assert env["MLOPS_RUN_DIR"] == RUN_DIR
    assert env["PYTHONPATH"].split(":")[:2] == [PROJECT_DIR, "/opt/mlops/lib"]
    assert env["MLOPS_DATA_DIR"] == DATA_DIR
    assert env["LR"] == "0.1" and env["LANG"] == "C.UTF-8"
    assert "/host/bin" not in env.get("PATH", "") and env["HOME"] == "/tmp"


def test_safe_by_default(tmp_path: Path) -> None:
    kwargs = create_kwargs(job(tmp_path), "mlops-env:x", "/home/me/.mlops")
    assert kwargs["network_mode"] == "none"
    assert kwargs["cap_drop"] == ["ALL"] and "no-new-privileges" in kwargs["security_opt"]
    assert kwargs["read_only"] is True
    assert not kwargs["user"].startswith("0:")
    mounts = {m["Target"]: m for m in kwargs["mounts"]}
    assert mounts[PROJECT_DIR]["ReadOnly"] is True
    assert mounts[f"{DATA_DIR}/iris"]["ReadOnly"] is True
    assert mounts[f"{DATA_DIR}/iris"]["Source"] == str(tmp_path / "iris")
    assert mounts[RUN_DIR]["ReadOnly"] is False
    assert kwargs["labels"] == {
        "io.jupyter-mlops.run": "r1",
        "io.jupyter-mlops.home": "/home/me/.mlops",
    }
    assert "device_requests" not in kwargs and "mem_limit" not in kwargs


def test_limits_gpus_and_network_by_request(tmp_path: Path) -> None:
    resources = Resources(cpus=1.5, memory_mb=512, gpus=2)
    kwargs = create_kwargs(job(tmp_path, resources=resources, network=True), "img", "/h")
    assert kwargs["network_mode"] == "bridge"
    assert kwargs["mem_limit"] == kwargs["memswap_limit"] == "512m"
    assert kwargs["nano_cpus"] == 1_500_000_000
    (request,) = kwargs["device_requests"]
    assert request["Count"] == 2 and request["Capabilities"] == [["gpu"]]
    assert container_environment(job(tmp_path, resources=resources))["OMP_NUM_THREADS"] == "2"


def test_copied_files_use_a_volume_and_no_bind_mount(tmp_path: Path) -> None:
    kwargs = create_kwargs(job(tmp_path), "mlops-run:r1", "/h", copied=True)
    (mount,) = kwargs["mounts"]
    assert mount["Type"] == "volume" and mount["Target"] == RUN_DIR
    assert mount["Source"] == "mlops-run-r1"
