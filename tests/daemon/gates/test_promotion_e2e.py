"""Promotion end to end: real runs, real gate reports, the real CLI and serving.

Promotion is refused while a required check fails, allowed with a recorded
override and reason; rollback returns to the previous version; a cut-out model
answers 503 on the very next request, and restore brings it back.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess
from support.gate_project import gate_report, train, write_project

from mlops_daemon.errors import Conflict, InvalidInput, MlopsError

pytestmark = pytest.mark.slow


def serve(daemon: DaemonProcess, alias: str, rows: list[list[float]]) -> Any:
    return daemon.api.request("POST", f"/serve/credit/{alias}", body={"inputs": rows})


def test_promote_override_rollback_cutout_restore(daemon: DaemonProcess, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")
    good = train(daemon, project)
    assert gate_report(daemon, good["id"])["passed"]

    done = daemon.cli("promote", "credit", "1", "staging", "--reason", "first candidate")
    assert done.returncode == 0, done.stdout + done.stderr

    # A second version whose tests fail: refused, then promoted with an override.
    (project / "tests" / "test_train.py").write_text("def test_x():\n    assert False\n")
    bad = train(daemon, project, seed=1)
    report = gate_report(daemon, bad["id"])
    assert not report["passed"]
    refused = daemon.cli("promote", "credit", "2", "staging")
    assert refused.returncode != 0
    assert "tests" in refused.stderr and "--override" in refused.stderr, refused.stderr
    with pytest.raises(InvalidInput):
        daemon.api.request(
            "POST",
            "/api/models/credit/promote",
            body={"version": 2, "alias": "staging", "override": True},
        )
    done = daemon.cli(
        "promote", "credit", "2", "staging", "--override", "--reason", "hotfix for an outage"
    )
    assert done.returncode == 0, done.stdout + done.stderr

    detail = daemon.api.request("GET", "/api/models/credit")
    aliases = {a["alias"]: a["version"] for a in detail["aliases"]}
    assert aliases == {"staging": 2}
    latest = detail["events"][0]
    assert latest["action"] == "promote" and latest["override"] is True
    assert latest["reason"] == "hotfix for an outage"
    assert latest["gate_report_id"] == report["id"]
    assert latest["actor"] == getpass.getuser()

    # Serving answers from the version under the alias.
    rows = [[0.5, -0.2, 1.0], [-1.0, -1.0, 0.0]]
    answer = serve(daemon, "staging", rows)
    assert answer["version"] == 2 and len(answer["outputs"]) == 2

    done = daemon.cli("rollback", "credit", "staging", "--reason", "the hotfix misbehaves")
    assert done.returncode == 0, done.stdout + done.stderr
    assert serve(daemon, "staging", rows)["version"] == 1
    with pytest.raises(Conflict):  # nothing before version 1 under staging
        daemon.api.request("POST", "/api/models/credit/rollback", body={"alias": "staging"})

    done = daemon.cli("cutout", "credit", "staging", "--reason", "leaking predictions")
    assert done.returncode == 0, done.stdout + done.stderr
    with pytest.raises(MlopsError) as cut:
        serve(daemon, "staging", rows)
    assert "leaking predictions" in str(cut.value)
    done = daemon.cli("restore", "credit", "staging", "--reason", "fixed upstream")
    assert done.returncode == 0, done.stdout + done.stderr
    assert serve(daemon, "staging", rows)["version"] == 1

    actions = [e["action"] for e in daemon.api.request("GET", "/api/models/credit")["events"]]
    assert actions == ["restore", "cutout", "rollback", "promote", "promote"]
