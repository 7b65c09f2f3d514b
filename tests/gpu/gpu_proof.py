"""Prove GPU training through the daemon: ``python tests/gpu/gpu_proof.py [--out FILE]``.

Run on a machine with an NVIDIA GPU, PyTorch and the daemon's dependencies (no Docker
needed: the daemon runs with ``MLOPS_DOCKER=off`` and the local executor). It

1. starts a daemon with a fresh ``MLOPS_HOME``;
2. submits the same small PyTorch training module twice: with ``resources.gpus=1`` and
   with ``resources.gpus=0``;
3. checks that the first trained on CUDA and sees exactly one device
   (``CUDA_VISIBLE_DEVICES=0``), that its recorded environment names the GPU (name,
   memory), and that the second saw no GPU (``CUDA_VISIBLE_DEVICES`` empty) and trained on
   the CPU;
4. prints the figures (and writes them as JSON with ``--out``). Exit 0 when all hold.

Not a pytest test: CI has no GPU. The note of issue 5 records a run of it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent.parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from support.daemon import running_daemon  # noqa: E402

TRAIN = """
import os, time
import torch
from mlops_kernel import get_params, log_metric

params = get_params()
torch.manual_seed(int(params.get("seed", 0)))
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
print("device:", device, "count:", torch.cuda.device_count())
if device.type == "cuda":
    print("gpu:", torch.cuda.get_device_name(0))
n, d = 16384, 128
x = torch.randn(n, d, device=device)
w_true = torch.randn(d, 1, device=device)
y = (x @ w_true > 0).float()
model = torch.nn.Sequential(
    torch.nn.Linear(d, 512), torch.nn.ReLU(), torch.nn.Linear(512, 1)
).to(device)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.BCEWithLogitsLoss()
start = time.perf_counter()
for step in range(int(params.get("steps", 200))):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    if step % 20 == 0:
        log_metric("loss", loss.item(), step=step)
if device.type == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - start
accuracy = ((model(x) > 0).float() == y).float().mean().item()
log_metric("accuracy", accuracy)
log_metric("train_seconds", seconds)
log_metric("on_cuda", 1.0 if device.type == "cuda" else 0.0)
log_metric("visible_devices", float(torch.cuda.device_count()))
print(f"trained on {device} in {seconds:.2f} s, accuracy {accuracy:.4f}")
"""


def run_one(daemon: Any, project: Path, gpus: int) -> dict[str, Any]:
    run = daemon.submit(
        project,
        "train_torch.py",
        executor="local",
        resources={"gpus": gpus},
        params={"seed": 0, "steps": 100},
        force=True,
    )
    done: dict[str, Any] = daemon.wait(run["id"], timeout=900)
    log = daemon.api.request("GET", f"/api/runs/{run['id']}/logs", query={"max_bytes": 65536})
    return {
        "id": done["id"],
        "status": done["status"],
        "reason": done["status_reason"],
        "metrics": done["metrics"],
        "gpus_recorded": (done.get("environment") or {}).get("gpus"),
        "log": log["text"],
        "duration_s": done["duration_s"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    os.environ["MLOPS_DOCKER"] = "off"
    with tempfile.TemporaryDirectory(prefix="mlops-gpu-proof-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "train_torch.py").write_text(textwrap.dedent(TRAIN))
        started = time.perf_counter()
        with running_daemon(Path(tmp) / "home") as daemon:
            with_gpu = run_one(daemon, project, gpus=1)
            without = run_one(daemon, project, gpus=0)
        total = time.perf_counter() - started
    checks = {
        "gpu run succeeded": with_gpu["status"] == "succeeded",
        "gpu run trained on CUDA": with_gpu["metrics"].get("on_cuda") == 1.0,
        "gpu run saw exactly one device": with_gpu["metrics"].get("visible_devices") == 1.0,
        "gpu run got CUDA_VISIBLE_DEVICES=0": "CUDA_VISIBLE_DEVICES=0\n" in with_gpu["log"],
        "gpu recorded in the run's environment": bool(with_gpu["gpus_recorded"])
        and bool(with_gpu["gpus_recorded"][0].get("name"))
        and bool(with_gpu["gpus_recorded"][0].get("memory_mb")),
        "cpu run succeeded": without["status"] == "succeeded",
        "cpu run saw no GPU": without["metrics"].get("visible_devices") == 0.0
        and "CUDA_VISIBLE_DEVICES=\n" in without["log"],
        "cpu run recorded no GPU": without["gpus_recorded"] == [],
    }
    report = {"with_gpu": with_gpu, "without_gpu": without, "checks": checks, "total_s": total}
    for name, run in (("gpus=1", with_gpu), ("gpus=0", without)):
        print(f"== run {run['id']} ({name}): {run['status']} {run['reason'] or ''}")
        print(textwrap.indent(run["log"].strip(), "   | "))
        print(f"   metrics: {json.dumps(run['metrics'])}")
        print(f"   environment.gpus: {json.dumps(run['gpus_recorded'])}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
