"""Gates end to end: a real daemon trains real models (local executor), registers
them, evaluates the project's gates and reports each check; each gate is made to
pass and to fail on purpose-built runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.daemon import DaemonProcess
from support.gate_project import (
    checks_by_name,
    gate_report,
    set_gates,
    show,
    train,
    write_project,
)

pytestmark = pytest.mark.slow


def test_defaults_are_tests_and_a_valid_onnx_model(daemon: DaemonProcess, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")
    run = train(daemon, project)
    report = gate_report(daemon, run["id"])
    checks = checks_by_name(report)
    assert set(checks) == {"tests", "onnx_valid[credit]"}, show(report)
    assert report["passed"] and report["status"] == "passed", show(report)
    assert checks["tests"]["measured"] == "1 passed"
    assert report["config_path"] is None
    assert all(c["lesson"] for c in report["checks"])
    versions = daemon.api.request("GET", "/api/models/credit")["versions"]
    assert [v["run_id"] for v in versions] == [run["id"]]


def test_failing_tests_fail_the_gate_and_mlops_gate_exits_nonzero(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "p", tests="def test_broken():\n    assert 2 + 2 == 5, 'arithmetic'\n"
    )
    run = train(daemon, project)
    report = gate_report(daemon, run["id"])
    tests = checks_by_name(report)["tests"]
    assert tests["status"] == "failed" and tests["required"], show(report)
    assert "arithmetic" in tests["evidence"]
    assert not report["passed"]
    done = daemon.cli("gate", run["id"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED" in done.stdout and "why it matters" in done.stdout
    assert "tests" in done.stdout


def test_metric_threshold_and_fairness_pass_and_fail(daemon: DaemonProcess, tmp_path: Path) -> None:
    gates = """
        [gates]
        metrics = ["accuracy >= 0.8"]
        onnx_parity = 1e-6

        [gates.fairness]
        sensitive = ["sex"]
        max_demographic_parity_difference = 0.2
        max_equalized_odds_difference = 0.3
    """
    project = write_project(tmp_path / "p", gates=gates)
    fair = gate_report(daemon, train(daemon, project)["id"])
    checks = checks_by_name(fair)
    assert fair["passed"], show(fair)
    for name in ("metric:accuracy", "fairness[credit]", "onnx_parity[credit]"):
        assert checks[name]["status"] == "passed", show(fair)
    assert checks["onnx_parity[credit]"]["measured"] == "0 of 200 labels differ"

    unfair = gate_report(daemon, train(daemon, project, unfair=1)["id"])
    checks = checks_by_name(unfair)
    assert not unfair["passed"], show(unfair)
    fairness = checks["fairness[credit]"]
    assert fairness["status"] == "failed", show(unfair)
    dpd = float(fairness["measured"].split("dpd ")[1].split(",")[0])
    assert dpd > 0.8, fairness
    assert "sex=0" in fairness["evidence"] and "sex=1" in fairness["evidence"]
    assert checks["metric:accuracy"]["status"] == "failed"  # it learned the group, not the task


def test_a_bad_config_fails_the_gate_naming_the_key_and_line(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "p", gates='[gates]\nmetrics = ["accuracy >> 0.9"]\n')
    report = gate_report(daemon, train(daemon, project)["id"])
    config = checks_by_name(report)["config"]
    assert config["status"] == "error" and not report["passed"], show(report)
    assert "line 2" in config["evidence"] and "metrics" in config["evidence"]


def test_data_gate_checks_the_runs_dataset(daemon: DaemonProcess, tmp_path: Path) -> None:
    data = tmp_path / "people.csv"
    data.write_text("age,income\n34,100\n,200\n51,300\n")
    daemon.api.request("POST", "/api/datasets", body={"path": str(data)})
    gates = """
        [gates.data.people]
        columns = { age = "int", income = "int" }
        not_null = ["age"]
        ranges = { income = [0, 1000] }
    """
    project = write_project(tmp_path / "p", gates=gates)
    run = daemon.submit(project, "train.py", executor="local", datasets=["people"])
    assert daemon.wait(run["id"])["status"] == "succeeded"
    report = gate_report(daemon, run["id"])
    check = checks_by_name(report)["data:people"]
    assert check["status"] == "failed", show(report)
    assert "null" in check["evidence"] and "people@1" in check["evidence"]

    set_gates(project, gates.replace('not_null = ["age"]', 'not_null = ["income"]'))
    again = daemon.api.request("POST", f"/api/runs/{run['id']}/gate")
    assert again["status"] == "pending"
    report = gate_report(daemon, run["id"])
    assert checks_by_name(report)["data:people"]["status"] == "passed", show(report)


def test_reproducible_gate_runs_the_identity_again(daemon: DaemonProcess, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", gates="[gates]\nreproducible = true\n")
    seeded = gate_report(daemon, train(daemon, project)["id"])
    check = checks_by_name(seeded)["reproducible"]
    assert check["status"] == "passed", show(seeded)
    assert check["measured"].startswith("reproduced")

    unseeded = gate_report(daemon, train(daemon, project, unseeded=1)["id"])
    check = checks_by_name(unseeded)["reproducible"]
    assert check["status"] == "failed", show(unseeded)
    assert "DIFFERS jitter" in check["evidence"]
    # The gate's own second runs are neither gated nor registered as versions.
    versions = daemon.api.request("GET", "/api/models/credit")["versions"]
    assert len(versions) == 2


def test_no_regression_against_production(daemon: DaemonProcess, tmp_path: Path) -> None:
    gates = '[gates]\nno_regression = ["accuracy >= production - 0.01"]\n'
    project = write_project(tmp_path / "p", gates=gates)
    first = gate_report(daemon, train(daemon, project)["id"])
    check = checks_by_name(first)["no_regression:accuracy[credit]"]
    assert check["status"] == "skipped" and first["passed"], show(first)
    daemon.api.request(
        "POST", "/api/models/credit/promote", body={"version": 1, "alias": "production"}
    )
    worse = gate_report(daemon, train(daemon, project, noise=0.45)["id"])
    check = checks_by_name(worse)["no_regression:accuracy[credit]"]
    assert check["status"] == "failed", show(worse)
    better = gate_report(daemon, train(daemon, project, seed=0)["id"])
    assert checks_by_name(better)["no_regression:accuracy[credit]"]["status"] == "passed"
