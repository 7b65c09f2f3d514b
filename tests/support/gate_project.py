"""A small, real training project for gate and promotion tests.

``train.py`` fits a scikit-learn pipeline on synthetic data with a binary
sensitive column and logs its metrics and its model (with the evaluation split
and the sensitive column). Params steer it into purpose-built failures:

- ``unfair=1``: the labels it learns from are the sensitive column itself, so its
  predictions follow the group (demographic parity difference near 1);
- ``noise``: the share of flipped training labels (lower accuracy);
- ``unseeded=1``: logs a metric that differs on every run (not reproducible).
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

from support.daemon import DaemonProcess

TRAIN = """
import random

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_kernel import get_params, log_metric, log_model

params = get_params()
rng = np.random.default_rng(int(params.get("seed", 0)))
n = 600
sex = rng.integers(0, 2, size=n)
X = rng.normal(size=(n, 3))
y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
flip = rng.random(n) < float(params.get("noise", 0.0))
y_train_labels = np.where(flip, 1 - y, y)
if int(params.get("unfair", 0)):
    X = np.column_stack([X[:, :2], sex])
    y_train_labels = sex
train, test = slice(0, 400), slice(400, n)
model = make_pipeline(StandardScaler(), LogisticRegression())
model.fit(X[train], y_train_labels[train])
accuracy = float((model.predict(X[test]) == y[test]).mean())
log_metric("accuracy", accuracy)
if int(params.get("unseeded", 0)):
    log_metric("jitter", random.random())
log_model(
    model,
    X[:5],
    name=str(params.get("model", "credit")),
    evaluation=(X[test], y[test]),
    sensitive={"sex": sex[test]},
)
"""

PASSING_TEST = "def test_it_runs():\n    assert 1 + 1 == 2\n"


def write_project(root: Path, gates: str = "", tests: str = PASSING_TEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(textwrap.dedent(TRAIN).lstrip())
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_train.py").write_text(tests)
    set_gates(root, gates)
    return root


def set_gates(root: Path, gates: str) -> None:
    path = root / "mlops.toml"
    if gates:
        path.write_text(textwrap.dedent(gates).lstrip())
    else:
        path.unlink(missing_ok=True)


def train(
    daemon: DaemonProcess,
    project: Path,
    executor: str = "local",
    timeout: float = 120,
    **params: Any,
) -> dict[str, Any]:
    """Submit ``train.py`` (forced) and wait until it ends; it must succeed."""
    run = daemon.submit(project, "train.py", params=params, executor=executor, force=True)
    final = daemon.wait(run["id"], timeout=timeout)
    assert final["status"] == "succeeded", f"{final['status_reason']}\n{daemon.log_tail()}"
    return final


def gate_report(daemon: DaemonProcess, run_id: str, timeout: float = 180) -> dict[str, Any]:
    """The run's finished gate report (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            report: dict[str, Any] = daemon.api.request("GET", f"/api/runs/{run_id}/gate")
        except Exception:
            report = {"status": "missing"}
        if report["status"] in ("passed", "failed"):
            return report
        time.sleep(0.1)
    raise AssertionError(f"no finished gate report for {run_id}:\n{daemon.log_tail()}")


def checks_by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def show(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=1)
