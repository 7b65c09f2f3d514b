"""A run that asks for GPUs records which (name, memory) in its environment and sees only
those through CUDA_VISIBLE_DEVICES.

This machine has no GPU, so ``nvidia-smi`` is a small script answering as the real one
does on a two-GPU machine (the boundary is faked; the daemon, executor and run are real).
The real proof on an NVIDIA H100 is in the issue's note.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from support.daemon import running_daemon

from mlops_daemon.gpus import gpu_inventory

pytestmark = pytest.mark.slow

SMI_OUTPUT = (
    "0, NVIDIA H100 80GB HBM3, 81559, GPU-aaaa, 580.82.07\n"
    "1, NVIDIA H100 80GB HBM3, 81559, GPU-bbbb, 580.82.07\n"
)


def fake_smi(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{SMI_OUTPUT}EOF\n")
    script.chmod(0o755)
    return directory


def test_the_inventory_reads_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_smi(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    gpus = gpu_inventory()
    assert [g["index"] for g in gpus] == [0, 1]
    assert gpus[0] == {
        "index": 0,
        "name": "NVIDIA H100 80GB HBM3",
        "memory_mb": 81559,
        "uuid": "GPU-aaaa",
        "driver": "580.82.07",
    }
    assert len(gpu_inventory(1)) == 1


def test_no_nvidia_smi_means_no_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_inventory() == []


def test_a_local_run_records_its_gpus_and_sees_only_them(tmp_path: Path) -> None:
    bin_dir = fake_smi(tmp_path / "bin")
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(
        textwrap.dedent(
            """
            import os
            print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
            """
        )
    )
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    with running_daemon(tmp_path / "home", extra_env=env) as daemon:
        one = daemon.wait(
            daemon.submit(project, "train.py", resources={"gpus": 1}, executor="local")["id"]
        )
        none = daemon.wait(daemon.submit(project, "train.py", executor="local")["id"])
        logs = {
            run["id"]: daemon.api.request("GET", f"/api/runs/{run['id']}/logs")["text"]
            for run in (one, none)
        }
    assert one["status"] == "succeeded" and none["status"] == "succeeded"
    assert [g["name"] for g in one["environment"]["gpus"]] == ["NVIDIA H100 80GB HBM3"]
    assert one["environment"]["gpus"][0]["memory_mb"] == 81559
    assert "CUDA_VISIBLE_DEVICES=0\n" in logs[one["id"]]
    assert none["environment"]["gpus"] == []
    assert "CUDA_VISIBLE_DEVICES=\n" in logs[none["id"]]
