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
4. follows the GPU-trained model the rest of the way: ``log_model`` exports it to ONNX
   from a CPU copy (the model itself stays on the GPU), the daemon gates it (the project's
   pytest tests, ``accuracy >= 0.9``, ONNX validity and parity), it is promoted to
   ``staging``, and ``POST /serve/gpu-proof/staging`` must answer what the model
   predicted on the GPU for the same rows;
5. prints the figures (and writes them as JSON with ``--out``). Exit 0 when all hold.

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

SYNTHETIC = """
import torch


def make_data(n: int, d: int, seed: int, device: torch.device):
    \"\"\"Gaussian features and a linearly separable binary label (class 1 above the plane).\"\"\"
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=generator)
    w_true = torch.randn(d, generator=generator)
    y = (x @ w_true > 0).long()
    return x.to(device), y.to(device)
"""

PROJECT_TEST = """
import torch

from synthetic import make_data


def test_the_data_is_reproducible_and_binary():
    x1, y1 = make_data(64, 8, seed=3, device=torch.device("cpu"))
    x2, y2 = make_data(64, 8, seed=3, device=torch.device("cpu"))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert set(y1.tolist()) == {0, 1}
"""

GATES = """
[gates]
metrics = ["accuracy >= 0.9"]
onnx_valid = true
onnx_parity = 1e-4
"""

TRAIN = """
import json, os, time
import torch
from mlops_kernel import get_params, log_metric, log_model
from synthetic import make_data

params = get_params()
torch.manual_seed(int(params.get("seed", 0)))
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
print("device:", device, "count:", torch.cuda.device_count())
if device.type == "cuda":
    print("gpu:", torch.cuda.get_device_name(0))
n, d = 16384, 128
x, y = make_data(n, d, seed=int(params.get("seed", 0)), device=device)
train, test = slice(0, n - 2048), slice(n - 2048, n)
model = torch.nn.Sequential(
    torch.nn.Linear(d, 512), torch.nn.ReLU(), torch.nn.Linear(512, 2)
).to(device)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
start = time.perf_counter()
for step in range(int(params.get("steps", 200))):
    opt.zero_grad()
    loss = loss_fn(model(x[train]), y[train])
    loss.backward()
    opt.step()
    if step % 20 == 0:
        log_metric("loss", loss.item(), step=step)
if device.type == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - start
model.eval()
with torch.no_grad():
    predicted = model(x[test]).argmax(dim=1)
accuracy = (predicted == y[test]).float().mean().item()
log_metric("accuracy", accuracy)
log_metric("train_seconds", seconds)
log_metric("on_cuda", 1.0 if device.type == "cuda" else 0.0)
log_metric("visible_devices", float(torch.cuda.device_count()))
model_on = next(model.parameters()).device.type
print(f"trained on {device} in {seconds:.2f} s, accuracy {accuracy:.4f}")
print("predictions on " + device.type + ": " + json.dumps(predicted[:8].tolist()))
print("rows: " + json.dumps(x[test][:8].cpu().tolist()))
# the model is still on the GPU here: log_model exports and saves it from a CPU copy
log_model(
    model,
    x[test][:5].cpu().numpy(),
    name="gpu-proof",
    task="classification",
    evaluation=(x[test].cpu().numpy(), y[test].cpu().numpy()),
)
after = next(model.parameters()).device.type
print("after log_model the model is on " + after + " (was " + model_on + ")")
"""


def logged_json(log: str, prefix: str) -> Any:
    """The JSON after ``prefix`` on the log line that starts with it (None if absent)."""
    for line in log.splitlines():
        if line.startswith(prefix):
            return json.loads(line[len(prefix) :])
    return None


def gate_report(daemon: Any, run_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    report: dict[str, Any] = {"status": "missing"}
    while time.monotonic() < deadline:
        try:
            report = daemon.api.request("GET", f"/api/runs/{run_id}/gate")
        except Exception:
            report = {"status": "missing"}
        if report["status"] in ("passed", "failed"):
            break
        time.sleep(0.2)
    return report


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
    report = gate_report(daemon, run["id"]) if done["status"] == "succeeded" else {}
    return {
        "id": done["id"],
        "status": done["status"],
        "reason": done["status_reason"],
        "metrics": done["metrics"],
        "gpus_recorded": (done.get("environment") or {}).get("gpus"),
        "log": log["text"],
        "duration_s": done["duration_s"],
        "gate": {
            "status": report.get("status"),
            "checks": [
                {k: c.get(k) for k in ("name", "status", "measured", "threshold")}
                for c in report.get("checks", [])
            ],
        },
    }


def promote_and_serve(daemon: Any, run: dict[str, Any]) -> dict[str, Any]:
    """Promote the run's model version to staging and serve the rows its log printed."""
    detail = daemon.api.request("GET", "/api/models/gpu-proof")
    version = next(v["version"] for v in detail["versions"] if v["run_id"] == run["id"])
    daemon.api.request(
        "POST", "/api/models/gpu-proof/promote", body={"version": version, "alias": "staging"}
    )
    rows = logged_json(run["log"], "rows: ")
    served = daemon.api.request("POST", "/serve/gpu-proof/staging", body={"inputs": rows})
    return {
        "version": version,
        "served_version": served["version"],
        "served": served["outputs"],
        "on_device": logged_json(run["log"], "predictions on cuda: "),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    os.environ["MLOPS_DOCKER"] = "off"
    with tempfile.TemporaryDirectory(prefix="mlops-gpu-proof-") as tmp:
        project = Path(tmp) / "project"
        (project / "tests").mkdir(parents=True)
        (project / "train_torch.py").write_text(textwrap.dedent(TRAIN).lstrip())
        (project / "synthetic.py").write_text(textwrap.dedent(SYNTHETIC).lstrip())
        (project / "tests" / "test_synthetic.py").write_text(PROJECT_TEST.lstrip())
        (project / "mlops.toml").write_text(GATES.lstrip())
        started = time.perf_counter()
        with running_daemon(Path(tmp) / "home") as daemon:
            with_gpu = run_one(daemon, project, gpus=1)
            without = run_one(daemon, project, gpus=0)
            serving: dict[str, Any] = {}
            if with_gpu["gate"]["status"] == "passed":
                serving = promote_and_serve(daemon, with_gpu)
        total = time.perf_counter() - started
    gpus = with_gpu["gpus_recorded"] or [{}]
    checks = {
        "gpu run succeeded": with_gpu["status"] == "succeeded",
        "gpu run trained on CUDA": with_gpu["metrics"].get("on_cuda") == 1.0,
        "gpu run saw exactly one device": with_gpu["metrics"].get("visible_devices") == 1.0,
        "gpu run got CUDA_VISIBLE_DEVICES=0": "CUDA_VISIBLE_DEVICES=0\n" in with_gpu["log"],
        "gpu recorded in the run's environment": bool(gpus[0].get("name"))
        and bool(gpus[0].get("memory_mb")),
        "cpu run succeeded": without["status"] == "succeeded",
        "cpu run saw no GPU": without["metrics"].get("visible_devices") == 0.0
        and "CUDA_VISIBLE_DEVICES=\n" in without["log"],
        "cpu run recorded no GPU": without["gpus_recorded"] == [],
        "log_model left the trained model on the GPU": "after log_model the model is on cuda"
        in with_gpu["log"],
        "the GPU-trained model passed its gates": with_gpu["gate"]["status"] == "passed",
        "its ONNX model, served from staging, predicts what it did on the GPU": bool(serving)
        and serving["on_device"] is not None
        and serving["served"] == serving["on_device"],
    }
    report = {
        "with_gpu": with_gpu,
        "without_gpu": without,
        "serving": serving,
        "checks": checks,
        "total_s": total,
    }
    for name, run in (("gpus=1", with_gpu), ("gpus=0", without)):
        print(f"== run {run['id']} ({name}): {run['status']} {run['reason'] or ''}")
        shown = [line[:160] for line in run["log"].strip().splitlines()]
        print(textwrap.indent("\n".join(shown), "   | "))
        print(f"   metrics: {json.dumps(run['metrics'])}")
        print(f"   environment.gpus: {json.dumps(run['gpus_recorded'])}")
        print(f"   gate: {json.dumps(run['gate'])}")
    print(f"== serving: {json.dumps(serving)}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    print(f"total {total:.1f} s")
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
