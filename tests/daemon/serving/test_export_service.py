"""`mlops export-service MODEL@ALIAS DIR` against a real daemon: the folder it writes
holds a standalone service whose own tests pass in a fresh Python process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon import DaemonProcess
from support.serving_models import LoggedModel, daemon_serving

from mlops_daemon.export_service.writer import template

pytestmark = pytest.mark.slow

EXPECTED_FILES = {
    "Dockerfile",
    "README.md",
    "app.py",
    "model.json",
    "model.onnx",
    "requirements.txt",
    "service.json",
    "test_service.py",
}


@pytest.fixture(scope="module")
def daemon(
    tmp_path_factory: pytest.TempPathFactory, logged: dict[str, LoggedModel]
) -> Iterator[DaemonProcess]:
    with daemon_serving(tmp_path_factory.mktemp("export") / "home", logged) as proc:
        yield proc


def run_service_tests(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(folder), "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("model", ["iris", "colours"])
def test_exported_service_passes_its_own_tests(
    daemon: DaemonProcess, logged: dict[str, LoggedModel], tmp_path: Path, model: str
) -> None:
    folder = tmp_path / f"{model}-service"
    done = daemon.cli("export-service", f"{model}@production", str(folder))
    assert done.returncode == 0, done.stderr
    files = {p.name for p in folder.iterdir()}
    expected = EXPECTED_FILES | ({"preprocess.py"} if model == "colours" else set())
    assert files == expected
    about = json.loads((folder / "service.json").read_text())
    assert (about["model"], about["alias"], about["version"]) == (model, "production", 1)
    assert (folder / "model.onnx").read_bytes() == (
        logged[model].model_dir / "model.onnx"
    ).read_bytes()
    requirements = (folder / "requirements.txt").read_text()
    assert "onnxruntime==" in requirements and "numpy==" in requirements
    if model == "colours":
        assert "pandas==" in requirements  # its preprocess takes a DataFrame
    dockerfile = (folder / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3." in dockerfile and "FROM ${BASE_IMAGE}" in dockerfile
    assert "--no-index" not in dockerfile  # no wheels asked for: pip uses the index
    assert re.search(r"\$\{?[a-z]", dockerfile) is None, dockerfile  # every placeholder filled
    assert "$" not in (folder / "README.md").read_text().replace("$ ", "")
    tests = run_service_tests(folder)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout


def test_the_service_tests_can_fail(daemon: DaemonProcess, tmp_path: Path) -> None:
    """A service whose model.json promises other outputs fails its own test."""
    folder = tmp_path / "broken"
    assert daemon.cli("export-service", "iris@production", str(folder)).returncode == 0
    manifest = json.loads((folder / "model.json").read_text())
    manifest["sample_output"] = [9 for _ in manifest["sample_output"]]
    (folder / "model.json").write_text(json.dumps(manifest))
    tests = run_service_tests(folder)
    assert tests.returncode == 1, tests.stdout
    assert "test_sample_input_gives_sample_output" in tests.stdout


def test_export_refuses_bad_targets(daemon: DaemonProcess, tmp_path: Path) -> None:
    done = daemon.cli("export-service", "iris", str(tmp_path / "x"))
    assert done.returncode == 2 and "MODEL@ALIAS" in done.stderr
    done = daemon.cli("export-service", "iris@staging", str(tmp_path / "x"))
    assert done.returncode == 1 and "no alias 'staging'" in done.stderr
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    done = daemon.cli("export-service", "iris@production", str(busy))
    assert done.returncode == 2 and "not an empty folder" in done.stderr
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]


def test_templates_are_package_data() -> None:
    """The template files are read through importlib.resources (as from the wheel)."""
    for name in ("app.py", "test_service.py", "Dockerfile", "README.md"):
        assert template(name).strip()
    assert "mlops_kernel" not in template("app.py")
    assert "mlops_daemon" not in template("app.py")
