"""Nothing of a gate is lost when the daemon stops: the next daemon finishes a report
left pending mid-evaluation, and gates a run that logged a model but whose report was
never opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from support.daemon import running_daemon
from support.gate_project import checks_by_name, gate_report, train, write_project

from mlops_daemon.config import DaemonConfig
from mlops_daemon.store.repository import Store

pytestmark = pytest.mark.slow


def test_a_pending_report_is_finished_after_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = write_project(tmp_path / "p")
    with running_daemon(home) as daemon:
        run = train(daemon, project)
        first = gate_report(daemon, run["id"])
    assert first["passed"]

    url = DaemonConfig(home=home).effective_database_url
    store = Store(url)
    try:
        left = store.create_gate_report(run["id"], None)  # as if evaluation was cut short
    finally:
        store.close()

    with running_daemon(home) as daemon:
        report = gate_report(daemon, run["id"])
    assert report["id"] == left.id
    assert report["status"] == "passed"
    assert set(checks_by_name(report)) == {"tests", "onnx_valid[credit]"}


def test_a_run_that_was_never_gated_is_gated_after_a_restart(tmp_path: Path) -> None:
    """The daemon stopped after the run succeeded but before it opened the gate report:
    the next daemon gates the run (once), and leaves runs that logged no model alone."""
    home = tmp_path / "home"
    project = write_project(tmp_path / "p")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "train.py").write_text("print('no model here')\n")
    with running_daemon(home) as daemon:
        run = train(daemon, project)
        gate_report(daemon, run["id"])
        no_model = daemon.submit(plain, "train.py", executor="local", force=True)
        assert daemon.wait(no_model["id"])["status"] == "succeeded"

    store = Store(DaemonConfig(home=home).effective_database_url)
    try:
        with store.session(write=True) as s:  # as if the report had never been created
            s.execute(text("DELETE FROM gate_report WHERE run_id = :r"), {"r": run["id"]})
        assert store.latest_gate_report(run["id"]) is None
    finally:
        store.close()

    with running_daemon(home) as daemon:
        report = gate_report(daemon, run["id"])
        assert report["status"] == "passed"
        assert set(checks_by_name(report)) == {"tests", "onnx_valid[credit]"}
        # a second restart finds it gated and opens no second report
    with running_daemon(home) as daemon:
        assert gate_report(daemon, run["id"])["id"] == report["id"]
    store = Store(DaemonConfig(home=home).effective_database_url)
    try:
        assert store.latest_gate_report(no_model["id"]) is None
        with store.session() as s:
            count = s.execute(
                text("SELECT count(*) FROM gate_report WHERE run_id = :r"), {"r": run["id"]}
            ).scalar_one()
        assert count == 1
    finally:
        store.close()
