"""Acceptance of issue 3 on real notebooks written by others (../shared/notebooks).

For every notebook: ``mlops extract`` of the whole notebook succeeds through a real
daemon (papermill run in a fresh kernel, module and tests written, committed to
git, a ModuleVersion recorded); the generated tests pass with pytest in the
project; and ``mlops run <package>.<name>:main`` through the daemon reproduces
the notebook's metrics -- the same values, to the last printed digit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon import DaemonProcess, running_daemon
from support.notebooks import notebook_params
from support.runs import full_log

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def real_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    home = tmp_path_factory.mktemp("productionise") / "home"
    with running_daemon(home) as proc:
        yield proc


@pytest.mark.parametrize("notebook", notebook_params())
def test_notebook_becomes_a_tested_module_that_reproduces_its_metrics(
    notebook: Path, real_daemon: DaemonProcess, tmp_path: Path
) -> None:
    project = tmp_path / "ml-project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)

    extracted = real_daemon.cli(
        "extract", str(notebook), "--project", str(project), "--json", timeout=RUN_TIMEOUT_S
    )
    assert extracted.returncode == 0, extracted.stdout + extracted.stderr
    result = json.loads(extracted.stdout)
    assert result["version"] == 1 and result["git_sha"] and result["changed"]
    assert (project / result["module_path"]).is_file()
    assert result["metrics"], f"no metric found in {notebook.name}"

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", result["test_path"]],
        cwd=project, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-4000:]

    run = real_daemon.submit(project, result["entry_point"])
    final = real_daemon.wait(run["id"], timeout=RUN_TIMEOUT_S)
    assert final["status"] == "succeeded", full_log(real_daemon, run["id"])[-4000:]
    assert final["module_version"]["version"] == 1
    assert final["module_version"]["module"] == result["module"]
    for name, value in result["metrics"].items():
        assert final["metrics"].get(name) == value, (name, final["metrics"])
