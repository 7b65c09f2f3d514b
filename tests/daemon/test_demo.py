"""`mlops demo`: the bundled notebook extracted into a tested module and trained.

The slow tests run the real command line, which starts a real daemon over a fresh
MLOPS_HOME (stopped in a ``finally``, its runs killed), and check what the demo
promises: a committed module whose training reproduces the notebook's metrics,
and a second run that re-uses the unchanged module version.
"""

from __future__ import annotations

import getpass
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from support.cli import Cli, show

from mlops_daemon.cli.demo_cmd import dropped_summary, ensure_repository, plan_summary, reproduces
from mlops_daemon.demo.notebook import CELLS, NAME, ensure_notebook, write_notebook
from mlops_kernel.notebook.extract import lint_notebook
from mlops_kernel.notebook.preview import plan_extraction
from mlops_kernel.notebook.schemas import ExtractionRequest

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only")


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=check
    )


# -- the notebook -------------------------------------------------------------------


def test_the_notebook_reads_like_a_data_scientists(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / NAME)
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown" and notebook.cells[0].source.startswith("# ")
    assert sum(kind == "markdown" for kind in kinds) >= 3
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "alpha = 0.0001" in tagged[0].source
    assert "epochs = 15" in tagged[0].source
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "load_digits" in code and "random_state=seed" in code and "partial_fit" in code
    assert "plt.show()" in code and 'print(f"accuracy: {accuracy:.6f}")' in code
    assert len({c.id for c in notebook.cells}) == len(CELLS)


def test_the_notebook_is_the_same_every_time(tmp_path: Path) -> None:
    first = write_notebook(tmp_path / "a" / NAME).read_bytes()
    assert write_notebook(tmp_path / "b" / NAME).read_bytes() == first


def test_an_edited_notebook_is_kept(tmp_path: Path) -> None:
    path, written = ensure_notebook(tmp_path)
    assert written and path == tmp_path / NAME
    path.write_text(path.read_text().replace("epochs = 15", "epochs = 3"))
    again, written = ensure_notebook(tmp_path)
    assert again == path and not written
    assert "epochs = 3" in path.read_text()


def test_lint_finds_nothing_wrong_and_extraction_drops_the_plot(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / NAME)
    report = lint_notebook(path, tmp_path)
    assert [f.id for f in report.findings if f.severity != "info"] == []
    plan = plan_extraction(ExtractionRequest(notebook=str(path), project=str(tmp_path)))
    assert plan.module_path == f"{tmp_path.name.replace('-', '_')}/digits.py"
    assert set(plan.params) >= {"alpha", "epochs", "seed"}
    assert plan.param_defaults["epochs"] == 15 and isinstance(plan.param_defaults["alpha"], float)
    data = plan.model_dump(mode="json")
    dropped = [line for step in data["steps"] for line in step["dropped"]]
    assert any("plt.show()" in line for line in dropped)
    plot_cell = next(i for i, (cell_id, *_) in enumerate(CELLS) if cell_id == "plot") + 1
    assert re.fullmatch(
        rf"\d+ display-only statements \(plots, echoed values\) in cells .*\b{plot_cell}\b.*",
        dropped_summary(data),
    )
    assert "plt" not in plan.module_source
    assert plan_summary(data).startswith(f"{len(data['steps'])} steps: ")


# -- helpers of the command ------------------------------------------------------------


def test_the_demo_project_gets_a_repository_of_its_own(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    project = outer / "home" / "demo-project"
    project.mkdir(parents=True)
    assert ensure_repository(project) is True
    assert Path(git(project, "rev-parse", "--show-toplevel").stdout.strip()) == project.resolve()
    assert ensure_repository(project) is False


def test_reproduces_needs_every_notebook_metric_with_the_same_value() -> None:
    notebook = {"accuracy": 0.966667, "train_loss": 0.1957}
    assert reproduces({"accuracy": 0.966667, "train_loss": 0.1957, "extra": 1.0}, notebook)
    assert not reproduces({"accuracy": 0.966667}, notebook)
    assert not reproduces({"accuracy": 0.96, "train_loss": 0.1957}, notebook)
    assert not reproduces({"accuracy": 1.0}, {})


# -- the real thing ----------------------------------------------------------------------


@pytest.fixture
def demo_cli(tmp_path: Path) -> Iterator[Cli]:
    """A CLI over a fresh home that lies inside another git repository."""
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    runner = Cli(outer / "home")
    try:
        yield runner
    finally:
        runner.stop_daemon()


def field(stdout: str, name: str) -> str:
    match = re.search(rf"^  {name}:\s+(.+)$", stdout, re.MULTILINE)
    assert match, f"no {name!r} line in:\n{stdout}"
    return match.group(1)


def run_id(stdout: str) -> str:
    match = re.search(r"through the daemon.*: run (\w+)$", stdout, re.MULTILINE)
    assert match, stdout
    return match.group(1)


def cli_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli(*args)
    assert result.returncode == 0, show(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.slow
@linux_only
def test_demo_extracts_the_notebook_and_trains_the_module(demo_cli: Cli) -> None:
    cli = demo_cli
    project = (cli.home / "demo-project").resolve()
    first = cli("demo", timeout=600)
    assert first.returncode == 0, show(first) + cli.daemon_log()
    out = first.stdout
    assert "starting the mlops daemon" in first.stderr
    assert "tests 0/1: running the generated tests" in first.stderr, "progress is shown"
    assert f"{project / NAME} (written now)" in out
    assert f"initialised a git repository in {project}" in out

    # What extraction wrote, committed in the demo project's own repository.
    module = project / "demo_project" / "digits.py"
    assert field(out, "module") == str(module) and module.is_file()
    tests = field(out, "tests")
    assert tests.startswith(str(project / "tests" / "test_digits.py")), out
    assert re.search(r"\((\d+) passed\)$", tests)
    assert field(out, "version") == "1 (new)"
    sha = git(project, "rev-parse", "HEAD").stdout.strip()
    assert field(out, "git") == sha
    assert git(project, "rev-list", "--count", "HEAD").stdout.strip() == "1"
    assert git(cli.home.parent, "rev-parse", "HEAD", check=False).returncode != 0, (
        "nothing may be committed to the repository around MLOPS_HOME"
    )
    assert re.match(r"6 display-only statements .* in cells \d", field(out, "left out")), out
    assert "plt." not in module.read_text()

    # The run trains the module and reproduces the notebook's metrics exactly.
    first_run = cli_json(cli, "runs", "show", run_id(out), "--json")
    assert first_run["status"] == "succeeded"
    assert first_run["entry_point"] == "demo_project.digits:main"
    assert "epoch 15: train_loss: " in out, "the run's output is streamed"
    extraction = cli_json(cli, "extract", str(project / NAME), "--json")
    assert extraction["changed"] is False and extraction["git_sha"] == sha
    notebook_metrics = extraction["metrics"]
    assert set(notebook_metrics) == {"accuracy", "train_loss"}
    assert {k: first_run["metrics"][k] for k in notebook_metrics} == notebook_metrics
    assert 0.9 < notebook_metrics["accuracy"] <= 1.0
    assert re.search(r"^  accuracy\s+0\.9\d+$", out, re.MULTILINE), out
    assert "the module reproduces the notebook" in out
    assert "What to try next" in out
    assert f"mlops lint {project / NAME}" in out
    assert f"cd {project} && pytest" in out
    hint = f"mlops run demo_project.digits:main --project {project} --param alpha=0.001 --follow"
    assert hint in out and "mlops runs list --sort metrics.accuracy" in out

    # The model it logged was gated (the defaults: its tests, a valid ONNX model) and
    # promoted to staging, recorded as the user's change.
    assert "4. The gates" in out and "PASSED" in out, out
    assert "onnx_valid[digits]" in out and "Promoted digits version 1 to staging" in out

    # Again: the same module version, trained again; the notebook is left as it is.
    notebook_bytes = (project / NAME).read_bytes()
    second = cli("demo", timeout=600)
    assert second.returncode == 0, show(second) + cli.daemon_log()
    assert "starting the mlops daemon" not in second.stderr
    assert "(yours to edit" in second.stdout and "initialised" not in second.stdout
    assert field(second.stdout, "version") == "1 (unchanged: already extracted)"
    assert field(second.stdout, "git") == sha
    assert git(project, "rev-list", "--count", "HEAD").stdout.strip() == "1"
    assert (project / NAME).read_bytes() == notebook_bytes
    second_run = cli_json(cli, "runs", "show", run_id(second.stdout), "--json")
    assert second_run["id"] != first_run["id"] and second_run["status"] == "succeeded"
    assert {k: second_run["metrics"][k] for k in notebook_metrics} == notebook_metrics
    assert "Promoted digits version 2 to staging" in second.stdout
    model = cli_json(cli, "models", "digits", "--json")
    assert [(a["alias"], a["version"]) for a in model["aliases"]] == [("staging", 2)]
    assert model["events"][0]["actor"] == getpass.getuser()

    # --epochs trains with another parameter; the module stays at its version.
    short = cli("demo", "--epochs", "3", timeout=600)
    assert short.returncode == 0, show(short) + cli.daemon_log()
    assert "epoch 3: train_loss: " in short.stdout and "epoch 4:" not in short.stdout
    short_run = cli_json(cli, "runs", "show", run_id(short.stdout), "--json")
    assert short_run["params"]["epochs"] == 3
    assert "the notebook's own run, with its own epochs, gave" in short.stdout


@pytest.mark.slow
@linux_only
def test_an_edited_notebook_becomes_a_new_version(demo_cli: Cli) -> None:
    cli = demo_cli
    project = cli.home / "demo-project"
    first = cli("demo", timeout=600)
    assert first.returncode == 0, show(first) + cli.daemon_log()
    notebook = nbformat.read(str(project / NAME), as_version=4)
    for cell in notebook.cells:
        cell.source = cell.source.replace("epochs = 15", "epochs = 5")
    nbformat.write(notebook, str(project / NAME))

    edited = cli("demo", timeout=600)
    assert edited.returncode == 0, show(edited) + cli.daemon_log()
    assert field(edited.stdout, "version") == "2 (new)"
    assert git(project, "rev-list", "--count", "HEAD").stdout.strip() == "2"
    assert "epoch 5: train_loss: " in edited.stdout and "epoch 6:" not in edited.stdout
    assert "the module reproduces the notebook" in edited.stdout
    assert "epochs: int = 5" in (project / "demo_project" / "digits.py").read_text()
