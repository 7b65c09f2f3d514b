"""Extraction end to end: papermill run, module + tests written, committed to git, versioned."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.notebooks import build_notebook

from mlops_kernel.notebook.errors import CellExecutionError, VersioningError
from mlops_kernel.notebook.extract import ExtractionProgress, extract
from mlops_kernel.notebook.preview import plan_extraction
from mlops_kernel.notebook.schemas import ExtractionRequest

pytestmark = pytest.mark.slow

CELLS = [
    "md:# Data",
    "import numpy as np\nimport matplotlib.pyplot as plt",
    ("n = 200\nnoise = 0.5", ["parameters"]),
    "x = np.random.rand(n)\ny = 3 * x + noise * np.random.rand(n)\nx[:3]",
    "plt.scatter(x, y)\nplt.show()",
    "md:# Fit",
    "def fit(x, y):\n    slope = float(np.polyfit(x, y, 1)[0])\n    return slope",
    "slope = fit(x, y)\nerror = abs(slope - 3)\nprint(f'slope error: {error:.6f}')",
]


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(project), *args], capture_output=True, text=True, check=True
    ).stdout


def request(notebook: Path, project: Path, **extra: object) -> ExtractionRequest:
    return ExtractionRequest(notebook=str(notebook), project=str(project), **extra)  # type: ignore[arg-type]


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo-project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_extract_writes_tested_module_and_commits_it(project: Path) -> None:
    notebook = build_notebook(project / "analysis.ipynb", CELLS)
    preview = plan_extraction(request(notebook, project))
    seen: list[ExtractionProgress] = []
    result = extract(request(notebook, project), progress=seen.append)

    assert result.module == "demo_project.analysis"
    assert result.entry_point == "demo_project.analysis:main"
    assert (project / "demo_project" / "analysis.py").is_file()
    assert (project / "tests" / "test_analysis.py").is_file()
    assert result.changed and result.git_sha and result.tests_passed >= 3
    assert result.content_hash.startswith("sha256:")
    assert "slope_error" in result.metrics
    assert {p.stage for p in seen} >= {"analyse", "run", "tests", "write", "commit"}
    log = git(project, "log", "-1", "--format=%s%n%b")
    assert "Extract demo_project.analysis from analysis.ipynb (cells" in log
    assert git(project, "rev-parse", "HEAD").strip() == result.git_sha
    source = (project / "demo_project" / "analysis.py").read_text()
    assert "n: int = 200" in source and "plt" not in source
    assert (
        subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", str(project / "demo_project")],
            capture_output=True,
        ).returncode
        == 0
    )
    # the generated tests pass in the project, as a user would run them
    assert run_pytest(project).returncode == 0
    # the preview showed the module's functions and the tests, before anything ran (the
    # metrics the notebook prints are found by its run, so the last step's return may grow)
    written = (project / "tests" / "test_analysis.py").read_text()
    assert function_names(preview.module_source) == function_names(source)
    assert function_names(preview.test_source) == function_names(written)
    assert len(function_names(written)) == len(preview.steps) + 1  # + test_import


def function_names(source: str) -> list[str]:
    """The top-level functions a module defines, in order."""
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def test_unchanged_cells_make_no_new_version_and_changes_do(project: Path) -> None:
    notebook = build_notebook(project / "analysis.ipynb", CELLS)
    first = extract(request(notebook, project))
    again = extract(request(notebook, project))
    assert not again.changed
    assert again.git_sha == first.git_sha and again.content_hash == first.content_hash
    assert len(git(project, "log", "--format=%H").split()) == 1

    changed_cells = list(CELLS)
    changed_cells[-1] = (
        "slope = fit(x, y)\nerror = abs(slope - 3) * 2\nprint(f'slope error: {error:.6f}')"
    )
    build_notebook(notebook, changed_cells)
    third = extract(request(notebook, project))
    assert third.changed and third.git_sha != first.git_sha
    assert (
        "-    error = abs(slope - 3)" in third.diff
        and "+    error = abs(slope - 3) * 2" in third.diff
    )
    assert len(git(project, "log", "--format=%H").split()) == 2


def test_generated_tests_fail_when_a_step_changes(project: Path) -> None:
    notebook = build_notebook(project / "analysis.ipynb", CELLS)
    extract(request(notebook, project))
    module = project / "demo_project" / "analysis.py"
    text = module.read_text()
    assert "y = 3 * x + noise" in text
    module.write_text(text.replace("y = 3 * x + noise", "y = 3.01 * x + noise"))
    result = run_pytest(project)
    assert result.returncode != 0
    assert "outputs differ from the notebook's" in result.stdout
    assert "y:" in result.stdout or "y[" in result.stdout


def test_not_a_repository_without_consent(tmp_path: Path) -> None:
    notebook = build_notebook(tmp_path / "nb.ipynb", CELLS)
    with pytest.raises(VersioningError, match="not a git repository"):
        extract(request(notebook, tmp_path))
    assert not (tmp_path / "tests").exists()
    result = extract(request(notebook, tmp_path, git_init=True))
    assert (tmp_path / ".git").is_dir() and result.git_sha


def test_failing_cell_is_reported_and_nothing_is_written(project: Path) -> None:
    cells = [
        *CELLS[:3],
        "x = np.random.rand(n)\ny = 3 * x\nraise ValueError('bad data in column 3')",
        *CELLS[4:],
    ]
    notebook = build_notebook(project / "analysis.ipynb", cells)
    with pytest.raises(CellExecutionError) as caught:
        extract(request(notebook, project))
    assert caught.value.cell == 3
    assert "cell 4 failed in a fresh kernel: ValueError: bad data in column 3" in str(caught.value)
    assert caught.value.lesson
    assert not (project / "demo_project").exists()
    assert git(project, "status", "--porcelain").strip() == "?? analysis.ipynb"


def test_params_and_seed_reach_the_generated_module(project: Path) -> None:
    notebook = build_notebook(project / "analysis.ipynb", CELLS)
    result = extract(request(notebook, project, params={"n": 50}, seed=7, name="fit_line"))
    source = (project / "demo_project" / "fit_line.py").read_text()
    assert "n: int = 50" in source and "seed: int = 7" in source
    record = json.loads((project / "tests/fixtures/fit_line/extraction.json").read_text())
    assert record["metrics"] == result.metrics
    assert run_pytest(project, "tests/test_fit_line.py").returncode == 0


def test_a_notebook_in_a_subfolder_reads_data_beside_it(project: Path) -> None:
    (project / "data").mkdir()
    (project / "data" / "values.csv").write_text("x\n1\n2\n3\n")
    cells = [
        "import pandas as pd",
        "df = pd.read_csv('../data/values.csv')\ndf.head()",
        "total = float(df['x'].sum())\nprint(f'total: {total}')",
    ]
    notebook = build_notebook(project / "notebooks" / "sums.ipynb", cells)
    result = extract(request(notebook, project))
    assert result.metrics["total"] == 6.0
    assert run_pytest(project).returncode == 0
    assert not (project / "notebooks" / "tests").exists()


def test_a_number_the_notebook_displays_becomes_a_metric(project: Path) -> None:
    cells = [
        "import numpy as np",
        "x = np.arange(10) * 1.5\nnp.mean(x)",
        "x.reshape(2, 5).sum(axis=0)",  # an array is shown, not a metric
    ]
    notebook = build_notebook(project / "shows.ipynb", cells)
    result = extract(request(notebook, project))
    assert result.metrics == {"mean": 6.75}
    source = (project / "demo_project" / "shows.py").read_text()
    assert 'print("mean:", np.mean(x))' in source
    assert run_pytest(project).returncode == 0
