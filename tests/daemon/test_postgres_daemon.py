"""The whole daemon on PostgreSQL: a run trained, tracked, listed and read back.

The store tests already run against PostgreSQL; this proves the daemon as users
start it (``MLOPS_DATABASE_URL=postgresql+psycopg://…``) works end to end too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.daemon import running_daemon
from support.runs import succeeded, write

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TRAIN = """
from mlops_kernel import get_params, log_metric
lr = get_params()["lr"]
for step in range(200):
    log_metric("loss", lr / (step + 1))
log_metric("accuracy", 1 - lr)
print("trained with lr", lr)
"""


def test_a_daemon_on_postgresql_runs_tracks_and_lists(tmp_path: Path, postgres_db_url: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    entry = write(project, "train.py", TRAIN)
    with running_daemon(tmp_path / "home", database_url=postgres_db_url) as daemon:
        info = daemon.api.request("GET", "/api/info")
        assert info["database"] == "postgresql"
        runs = [daemon.submit(project, entry, params={"lr": lr}) for lr in (0.1, 0.3, 0.2)]
        for run in runs:
            succeeded(daemon, run)
        page = daemon.api.request(
            "GET", "/api/runs", query={"sort": "metrics.accuracy", "order": "desc"}
        )
        assert [r["params"]["lr"] for r in page["runs"]] == [0.1, 0.2, 0.3]
        series = daemon.api.request(
            "GET", f"/api/runs/{runs[0]['id']}/metrics", query={"key": "loss"}
        )
        (loss,) = series["series"]
        assert loss["steps"] == list(range(200))
        assert loss["values"][-1] == pytest.approx(0.1 / 200)
        assert not (daemon.home / "mlops.db").exists(), "nothing may go to SQLite"
