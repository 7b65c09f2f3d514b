"""Runs that name datasets: resolved to pinned versions, visible through dataset_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.daemon import DaemonProcess

from mlops_daemon.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.slow

IRIS = "sepal,petal,species\n5.1,1.4,setosa\n4.9,1.4,setosa\n6.3,6.0,virginica\n"
TRAIN = """
import csv, os
from mlops_kernel import dataset_path, log_metric

root = dataset_path("iris")
with open(root / "iris.csv", newline="") as fh:
    rows = list(csv.DictReader(fh))
log_metric("rows", float(len(rows)))
log_metric("mean_petal", sum(float(r["petal"]) for r in rows) / len(rows))
print("data dir", os.environ["MLOPS_DATA_DIR"], "->", os.path.realpath(root))
"""


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    root = tmp_path / "iris"
    root.mkdir()
    (root / "iris.csv").write_text(IRIS)
    return root


def test_a_run_reads_its_dataset_and_records_the_version(
    daemon: DaemonProcess, project: Path, iris: Path
) -> None:
    daemon.api.request("POST", "/api/datasets", body={"path": str(iris)})
    (project / "train.py").write_text(TRAIN)
    run = daemon.submit(project, "train.py", datasets=["iris"])
    assert run["datasets"] == ["iris@1"]
    done = daemon.wait(run["id"])
    assert done["status"] == "succeeded", daemon.api.request("GET", f"/api/runs/{run['id']}/logs")
    assert done["metrics"] == {"rows": 3.0, "mean_petal": pytest.approx(8.8 / 3)}
    assert done["datasets"] == ["iris@1"]
    link = Path(done["run_dir"]) / "data" / "iris"
    assert link.is_symlink() and link.resolve() == iris.resolve()

    # A bare name takes the current content: a change is recorded as the next version.
    (iris / "iris.csv").write_text(IRIS + "7.7,6.7,virginica\n")
    second = daemon.wait(daemon.submit(project, "train.py", datasets=["iris"])["id"])
    assert second["status"] == "succeeded" and second["datasets"] == ["iris@2"]
    assert second["metrics"]["rows"] == 4.0
    versions = daemon.api.request("GET", "/api/datasets/iris")["versions"]
    assert [v["ref"] for v in versions] == ["iris@1", "iris@2"]


def test_a_pinned_version_whose_files_changed_is_409(
    daemon: DaemonProcess, project: Path, iris: Path
) -> None:
    daemon.api.request("POST", "/api/datasets", body={"path": str(iris)})
    (project / "train.py").write_text(TRAIN)
    ok = daemon.wait(daemon.submit(project, "train.py", datasets=["iris@1"])["id"])
    assert ok["status"] == "succeeded" and ok["datasets"] == ["iris@1"]
    (iris / "iris.csv").write_text(IRIS.replace("5.1", "5.2"))
    with pytest.raises(Conflict, match="iris@1 no longer matches its files"):
        daemon.submit(project, "train.py", datasets=["iris@1"])


def test_unknown_datasets_are_refused_before_anything_runs(
    daemon: DaemonProcess, project: Path, iris: Path
) -> None:
    (project / "train.py").write_text(TRAIN)
    with pytest.raises(NotFound, match="no dataset named 'wine'"):
        daemon.submit(project, "train.py", datasets=["wine"])
    daemon.api.request("POST", "/api/datasets", body={"path": str(iris)})
    with pytest.raises(NotFound, match="has no version 5"):
        daemon.submit(project, "train.py", datasets=["iris@5"])
    with pytest.raises(InvalidInput, match="named twice"):
        daemon.submit(project, "train.py", datasets=["iris", "iris@1"])
    with pytest.raises(InvalidInput, match="datasets"):
        daemon.submit(project, "train.py", datasets=["../iris"])
    assert daemon.api.request("GET", "/api/runs")["total"] == 0


def test_a_dataset_whose_folder_is_gone_is_409(
    daemon: DaemonProcess, project: Path, iris: Path
) -> None:
    daemon.api.request("POST", "/api/datasets", body={"path": str(iris)})
    (iris / "iris.csv").unlink()
    iris.rmdir()
    (project / "train.py").write_text(TRAIN)
    with pytest.raises(Conflict, match="no longer exists"):
        daemon.submit(project, "train.py", datasets=["iris"])


def test_without_the_dataset_the_run_says_how_to_name_it(
    daemon: DaemonProcess, project: Path
) -> None:
    (project / "train.py").write_text(TRAIN)
    done = daemon.wait(daemon.submit(project, "train.py")["id"])
    assert done["status"] == "failed" and done["datasets"] == []
    log = daemon.api.request("GET", f"/api/runs/{done['id']}/logs")["text"]
    assert "add `--dataset iris` to `mlops run`" in log


def test_cli_run_with_dataset(daemon: DaemonProcess, project: Path, iris: Path) -> None:
    assert daemon.cli("data", "add", str(iris)).returncode == 0
    (project / "train.py").write_text(TRAIN)
    out = daemon.cli(
        "run", "train.py", "--project", str(project), "--dataset", "iris@1", "--follow"
    )
    assert out.returncode == 0, out.stderr
    assert "rows=3" in out.stderr
