"""A gate report left pending by a daemon that stopped mid-evaluation is finished
by the next daemon when it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
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
