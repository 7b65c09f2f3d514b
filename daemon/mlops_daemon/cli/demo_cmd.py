"""`mlops demo`: the product's main job, end to end, on the embedded defaults.

A small notebook is written into ``$MLOPS_HOME/demo-project`` (once: it is the
user's to edit afterwards), extracted through the daemon into a tested module
committed to git, and that module is trained as a tracked run; the model it logs
is gated and, when the gates pass, promoted to staging. Running it again
finds the module unchanged (same version) and trains it again.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

from ..client import Client
from ..client_models import set_actor
from ..config import DaemonConfig
from ..demo.notebook import ensure_notebook
from ..errors import NotFound
from ..home import ensure_home
from . import format as fmt
from . import notebook_format as nbfmt
from .gate_cmd import render as render_gate
from .notebook_cmd import daemon_client, job_error, run_extraction
from .runs_cmd import follow

PROJECT_DIR = "demo-project"
DEMO_MODEL = "digits"
"""The name the demo notebook logs its model under."""
GATE_POLL_S = 0.25
GATE_START_S = 10.0
"""How long the report of a run that logged a model may take to appear before we ask."""
DROPPED_CELL = re.compile(r"cell (\d+):")  # a plan's dropped lines: "cell N: code (why)"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="extract the bundled notebook into a tested module and train it"
    )
    demo.add_argument(
        "--epochs", type=int, default=None, help="epochs to train (default: the notebook's)"
    )
    demo.set_defaults(func=cmd_demo)


def ensure_repository(project: Path) -> bool:
    """Make the demo project a git repository of its own; True when it was made now.

    Only a ``.git`` in the project itself counts: were the home inside another
    repository, extraction would otherwise commit there.
    """
    if (project / ".git").exists():
        return False
    from mlops_kernel.notebook import gitrepo

    from ..notebooks import translated

    with translated():
        gitrepo.init(project)
    return True


def _cells(indices: list[int]) -> str:
    numbers = [str(i + 1) for i in indices]
    return ("cell " if len(numbers) == 1 else "cells ") + ", ".join(numbers)


def _metrics(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{k}={fmt.number(v)}" for k, v in metrics.items()) or "-"


def plan_summary(plan: dict[str, Any]) -> str:
    steps = ", ".join(f"{s['name']} ({_cells(s['cells'])})" for s in plan["steps"])
    return f"{len(plan['steps'])} steps: {steps}"


def dropped_summary(plan: dict[str, Any]) -> str:
    """How much display-only code extraction leaves out, and from which cells."""
    dropped = [line for step in plan["steps"] for line in step["dropped"]]
    if not dropped:
        return "nothing (no display-only code)"
    noun = "statement" if len(dropped) == 1 else "statements"
    text = f"{len(dropped)} display-only {noun} (plots, echoed values)"
    cells = sorted({int(m.group(1)) for m in map(DROPPED_CELL.match, dropped) if m})
    return f"{text} in {_cells([c - 1 for c in cells])}" if cells else text


def extraction_summary(result: dict[str, Any], plan: dict[str, Any]) -> str:
    project = Path(result["project"])
    version = result.get("version")
    state = "new" if result["changed"] else "unchanged: already extracted"
    return "\n".join(
        [
            f"  module:   {project / result['module_path']}",
            f"  tests:    {project / result['test_path']} ({result['tests_passed']} passed)",
            f"  version:  {version if version is not None else '-'} ({state})",
            f"  git:      {result.get('git_sha') or '-'}",
            f"  left out: {dropped_summary(plan)}",
            f"  notebook metrics: {_metrics(result['metrics'])}",
        ]
    )


def reproduces(run_metrics: dict[str, Any], notebook_metrics: dict[str, Any]) -> bool:
    """Whether the run logged every metric the notebook printed, with the same value."""
    if not notebook_metrics:
        return False
    return all(
        isinstance(run_metrics.get(key), int | float)
        and math.isclose(run_metrics[key], value, rel_tol=1e-9, abs_tol=1e-12)
        for key, value in notebook_metrics.items()
    )


def next_steps(notebook: Path, result: dict[str, Any]) -> str:
    project = Path(result["project"])
    rows = [
        (f"mlops lint {notebook}", "what would break in production, cell by cell"),
        (f"less {project / result['module_path']}", "the module extraction wrote"),
        (f"less {project / result['test_path']}", "its tests, against the notebook's values"),
        (f"cd {project} && pytest", "run those tests yourself"),
        (
            f"mlops run {result['entry_point']} --project {project} --param alpha=0.001 --follow",
            "train again with another parameter",
        ),
        ("mlops runs list --sort metrics.accuracy", "compare runs by a metric"),
        (f"mlops models {DEMO_MODEL}", "its versions, gate reports, aliases and history"),
        (f"edit {notebook.name}, then mlops demo", "a new module version, tested and committed"),
        (
            f"jupyter lab {project}",
            "the MLOps panel (left sidebar): lessons, Productionise, runs with live charts",
        ),
    ]
    lines = ["What to try next:"]
    for command, why in rows:
        lines.append(f"  {command}")
        lines.append(f"      {why}")
    return "\n".join(lines)


def train(client: Client, result: dict[str, Any], epochs: int | None) -> dict[str, Any]:
    """Submit the extracted module as a run and stream its output; returns the ended run."""
    spec: dict[str, Any] = {
        "project": result["project"],
        "entry_point": result["entry_point"],
        "params": {} if epochs is None else {"epochs": epochs},
        "name": "demo",
        # The demo shows the embedded defaults: a local process, whether or not Docker is here.
        "executor": "local",
        # ... and trains every time it is run (it is a demonstration, not a cached result).
        "force": True,
    }
    run = client.request("POST", "/api/runs", body=spec)
    params = f" with epochs={epochs}" if epochs is not None else ""
    print(f"3. Train {result['entry_point']} through the daemon{params}: run {run['id']}\n")
    sys.stdout.flush()
    return follow(client, run["id"])


def cmd_demo(args: argparse.Namespace, config: DaemonConfig) -> int:
    client = daemon_client(config)
    set_actor(client)  # the promotion is recorded as the user's
    ensure_home(config.paths)
    project = config.home / PROJECT_DIR
    project.mkdir(exist_ok=True)
    project = project.resolve()
    print(f"jupyter-mlops demo, in {project}\n")

    notebook, written = ensure_notebook(project)
    how = "written now" if written else "yours to edit; delete it to get the original back"
    print(f"1. The notebook: {notebook} ({how})")
    if ensure_repository(project):
        print(f"   initialised a git repository in {project}")

    body = {"notebook": str(notebook), "project": str(project)}
    plan = client.request("POST", "/api/extractions/plan", body=body)
    print(f"\n2. Extract it into a tested module: {plan_summary(plan)}")
    sys.stdout.flush()
    job = run_extraction(client, body)
    if job["state"] == "failed":
        print(nbfmt.job_failure(job_error(job)), file=sys.stderr)
        print(f"fix {notebook}, or delete it to get the original back", file=sys.stderr)
        return 1
    result = job["result"]
    print(extraction_summary(result, plan) + "\n")

    final = train(client, result, args.epochs)
    print()
    if final["status"] != "succeeded":
        print(f"the demo run {final['status']}: {final.get('status_reason')}", file=sys.stderr)
        print(f"its output: mlops runs logs {final['id']}", file=sys.stderr)
        return fmt.EXIT_BY_STATUS.get(final["status"], 1)
    print(f"run {final['id']} succeeded in {fmt.duration(final['duration_s'])}. Final metrics:")
    for key, value in final["metrics"].items():
        print(f"  {key:12s} {fmt.number(value)}")
    if reproduces(final["metrics"], result["metrics"]):
        print("the same as the notebook's own run: the module reproduces the notebook")
    elif args.epochs is None:
        print(f"differs from the notebook's own run, which gave {_metrics(result['metrics'])}")
    else:
        print(f"the notebook's own run, with its own epochs, gave {_metrics(result['metrics'])}")
    gated = gate_and_promote(client, final)
    print("\n" + next_steps(notebook, result))
    return 0 if gated else 1


def gate_and_promote(client: Client, run: dict[str, Any]) -> bool:
    """Show the run's gate report and, when it passed, promote its model to staging."""
    report = wait_for_gate(client, run["id"])
    print("\n4. The gates (what must hold before the model may be promoted):\n")
    print(render_gate(report))
    if report["status"] != "passed":
        print(f"\nthe demo model stays unpromoted: `mlops gate {run['id']}` says why")
        return False
    versions = client.request("GET", f"/api/models/{DEMO_MODEL}")["versions"]
    mine = [v for v in versions if v["run_id"] == run["id"]]
    if not mine:
        return False
    version = mine[0]["version"]
    body = {"version": version, "alias": "staging", "reason": "mlops demo: gates passed"}
    client.request("POST", f"/api/models/{DEMO_MODEL}/promote", body=body)
    print(f"\n5. Promoted {DEMO_MODEL} version {version} to staging. It answers at")
    print(f'   POST /serve/{DEMO_MODEL}/staging with {{"inputs": [row, ...]}}, each row as the')
    print("   notebook gave them to log_model: 64 pixel values, standardised by its scaler")
    return True


def wait_for_gate(client: Client, run_id: str, timeout_s: float = 300) -> dict[str, Any]:
    """The run's finished gate report (the daemon starts it once the run has succeeded)."""
    started = time.monotonic()
    while True:
        try:
            report: dict[str, Any] = client.request("GET", f"/api/runs/{run_id}/gate")
        except NotFound:
            if time.monotonic() - started < GATE_START_S:
                time.sleep(GATE_POLL_S)
                continue
            report = client.request("POST", f"/api/runs/{run_id}/gate")  # evaluate it now
        if report["status"] != "pending" or time.monotonic() - started > timeout_s:
            return report
        time.sleep(GATE_POLL_S)
