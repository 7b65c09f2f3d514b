"""Datasets through a real daemon: `POST/GET /api/datasets...` and `mlops data`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess

from mlops_daemon.errors import InvalidInput, NotFound

pytestmark = pytest.mark.slow

IRIS = "sepal,petal,species\n5.1,1.4,setosa\n4.9,1.4,setosa\n6.3,6.0,virginica\n"


def iris_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "iris.csv").write_text(IRIS)
    (root / "README").write_text("three flowers\n")
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "HEAD").write_text("ref: main\n")
    return root


def add(daemon: DaemonProcess, path: Path, name: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"path": str(path)}
    if name:
        body["name"] = name
    result: dict[str, Any] = daemon.api.request("POST", "/api/datasets", body=body)
    return result


def test_add_list_show_and_idempotence(daemon: DaemonProcess, tmp_path: Path) -> None:
    data = iris_dir(tmp_path / "iris")
    first = add(daemon, data)
    assert first["created"] and first["ref"] == "iris@1"
    assert first["file_count"] == 2 and first["ignored"] == [".git"]
    assert first["path"] == str(data.resolve())
    assert first["schema"]["iris.csv"]["rows"] == 3
    dtypes = {c["name"]: c["dtype"] for c in first["schema"]["iris.csv"]["columns"]}
    assert dtypes == {"sepal": "float", "petal": "float", "species": "string"}

    again = add(daemon, data)
    assert not again["created"] and again["id"] == first["id"] and again["ref"] == "iris@1"

    (data / "iris.csv").write_text(IRIS + "7.7,6.7,virginica\n")
    second = add(daemon, data)
    assert second["created"] and second["ref"] == "iris@2"
    assert second["manifest_hash"] != first["manifest_hash"]
    assert second["schema"]["iris.csv"]["rows"] == 4

    listed = daemon.api.request("GET", "/api/datasets")["datasets"]
    assert [(d["name"], d["versions"], d["latest"]["version"]) for d in listed] == [("iris", 2, 2)]
    versions = daemon.api.request("GET", "/api/datasets/iris")["versions"]
    assert [v["ref"] for v in versions] == ["iris@1", "iris@2"]
    assert all(v["files"] is None for v in versions)

    one = daemon.api.request("GET", "/api/datasets/iris/1")
    assert one["manifest_hash"] == first["manifest_hash"]
    assert [f["path"] for f in one["files"]] == ["README", "iris.csv"]
    assert daemon.api.request("GET", "/api/datasets/iris/latest")["version"] == 2
    bare = daemon.api.request("GET", "/api/datasets/iris/2", query={"files": False})
    assert bare["files"] is None

    # The manifest file kept in MLOPS_HOME is exactly what the identity hashes.
    manifest = daemon.home / "datasets" / "manifests" / f"{one['manifest_hash'][7:]}.json"
    rows = json.loads(manifest.read_text())
    assert [r[0] for r in rows] == ["README", "iris.csv"]


def test_same_content_under_another_name_is_another_dataset(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    data = iris_dir(tmp_path / "iris")
    assert add(daemon, data)["ref"] == "iris@1"
    other = add(daemon, data, name="flowers")
    assert other["created"] and other["ref"] == "flowers@1"


def test_a_single_file_dataset_is_named_after_its_stem(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    path = iris_dir(tmp_path / "d") / "iris.csv"
    added = add(daemon, path)
    assert added["ref"] == "iris@1" and added["file_count"] == 1


def test_unknown_names_and_versions_are_404(daemon: DaemonProcess, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no dataset named 'nope'"):
        daemon.api.request("GET", "/api/datasets/nope")
    add(daemon, iris_dir(tmp_path / "iris"))
    with pytest.raises(NotFound, match="no version 7"):
        daemon.api.request("GET", "/api/datasets/iris/7")
    with pytest.raises(NotFound, match="no version 'x'"):
        daemon.api.request("GET", "/api/datasets/iris/x")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/definitely/not/here", "does not exist"),
        ("relative/dir", "must be absolute"),
        ("/", "cannot be a dataset"),
    ],
)
def test_bad_paths_are_400_with_one_line(daemon: DaemonProcess, path: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        daemon.api.request("POST", "/api/datasets", body={"path": path})
    assert "\n" not in info.value.message


def test_a_bad_name_is_400(daemon: DaemonProcess, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="name"):
        add(daemon, iris_dir(tmp_path / "iris"), name="../etc")


def test_cli_add_list_show(daemon: DaemonProcess, tmp_path: Path) -> None:
    data = iris_dir(tmp_path / "iris")
    out = daemon.cli("data", "add", str(data))
    assert out.returncode == 0, out.stderr
    assert "hashing 2 files" in out.stderr
    assert "ignored (never part of a dataset): .git" in out.stderr
    assert "iris@1 recorded" in out.stdout and "species: string" in out.stdout
    again = daemon.cli("data", "add", str(data))
    assert "iris@1 already recorded" in again.stdout
    listed = daemon.cli("data", "list")
    assert listed.returncode == 0 and "iris" in listed.stdout
    shown = daemon.cli("data", "show", "iris@1", "--files")
    assert shown.returncode == 0, shown.stderr
    assert "iris.csv" in shown.stdout and "README" in shown.stdout
    as_json = json.loads(daemon.cli("data", "show", "iris", "--json").stdout)
    assert [v["ref"] for v in as_json["versions"]] == ["iris@1"]
    missing = daemon.cli("data", "add", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    unknown = daemon.cli("data", "show", "nope")
    assert unknown.returncode == 1 and "no dataset named 'nope'" in unknown.stderr
