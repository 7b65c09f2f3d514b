"""Production readiness: each checklist item passes and fails for the right reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.notebooks import analysed_notebook, notebook_params
from support.notebooks import code_cell as code

from mlops_kernel.notebook.analysis import analyse
from mlops_kernel.notebook.lint import lint
from mlops_kernel.notebook.readiness import ITEM_IDS, git_work_tree, readiness
from mlops_kernel.notebook.schemas import Readiness
from mlops_kernel.notebook.source import load_notebook


def check(folder: Path, *cells: dict[str, Any], project: Path | None = None) -> Readiness:
    analysis = analysed_notebook(folder, *cells)
    return readiness(analysis, lint(analysis, project=project), project=project)


def item(result: Readiness, item_id: str) -> tuple[bool, str]:
    found = [entry for entry in result.checklist if entry.id == item_id]
    assert len(found) == 1
    return found[0].passed, found[0].detail


GOOD = (
    code("seed = 0", 1, tags=("parameters",)),
    code("import numpy as np\nnp.random.seed(seed)\nx = np.random.rand(3)", 2),
    code("print(x.sum())", 3),
)


def project_with_tests_and_git(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "tests" / "test_model.py").write_text("def test_x():\n    assert True\n")
    return root


def test_items_are_the_contract_in_order(tmp_path: Path) -> None:
    result = check(tmp_path, *GOOD)
    assert [entry.id for entry in result.checklist] == list(ITEM_IDS)
    assert list(ITEM_IDS) == [
        "runs-top-to-bottom",
        "parameters-cell",
        "seeds",
        "no-hidden-state",
        "tests",
        "version-control",
    ]


def test_ready_project_scores_100(tmp_path: Path) -> None:
    project = project_with_tests_and_git(tmp_path / "proj")
    result = check(project / "notebooks", *GOOD, project=project)
    assert [entry.id for entry in result.checklist if not entry.passed] == []
    assert result.score == 100


def test_score_is_the_integer_percentage_passed(tmp_path: Path) -> None:
    if git_work_tree(tmp_path) is not None:
        pytest.skip(f"{tmp_path} is inside a git work tree")
    # passes: parameters-cell, seeds, no-hidden-state (3 of 6); never run, no project
    result = check(tmp_path / "nb", code("seed = 0", tags=("parameters",)), code("print(seed)"))
    assert [entry.passed for entry in result.checklist] == [False, True, True, True, False, False]
    assert result.score == 50
    bare = check(
        tmp_path / "other", code("import random\nx = random.random()", 2), code("y = 1", 1)
    )
    assert sum(entry.passed for entry in bare.checklist) == 0
    assert bare.score == 0


def test_never_run_is_not_verified_yet(tmp_path: Path) -> None:
    passed, detail = item(check(tmp_path, code("x = 1"), code("print(x)")), "runs-top-to-bottom")
    assert not passed and detail.startswith("not verified yet")


def test_partly_run_names_the_cells_never_run(tmp_path: Path) -> None:
    result = check(tmp_path, code("x = 1", 1), code("y = 2"), code("print(x)", 2))
    passed, detail = item(result, "runs-top-to-bottom")
    assert not passed and "cell 2 never ran" in detail


def test_blank_cells_never_run_do_not_count(tmp_path: Path) -> None:
    result = check(tmp_path, code("x = 1", 1), code("   "), code("print(x)", 2))
    assert item(result, "runs-top-to-bottom")[0]


def test_error_output_fails_runs_top_to_bottom(tmp_path: Path) -> None:
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}
    result = check(tmp_path, code("x = 1", 1), code("raise ValueError('bad')", 2, outputs=(error,)))
    passed, detail = item(result, "runs-top-to-bottom")
    assert not passed and "cell 2 ended with an error" in detail


def test_rerun_cells_fail_runs_top_to_bottom_but_not_hidden_state(tmp_path: Path) -> None:
    result = check(tmp_path, code("x = 1", 1), code("print(x)", 4))
    assert not item(result, "runs-top-to-bottom")[0]
    assert item(result, "no-hidden-state")[0]


def test_out_of_order_fails_hidden_state(tmp_path: Path) -> None:
    result = check(tmp_path, code("x = 1", 2), code("print(x)", 1))
    passed, detail = item(result, "no-hidden-state")
    assert not passed and "out of order" in detail
    assert not item(result, "runs-top-to-bottom")[0]


def test_use_before_define_fails_hidden_state(tmp_path: Path) -> None:
    passed, detail = item(check(tmp_path, code("print(x)"), code("x = 1")), "no-hidden-state")
    assert not passed and "'x'" in detail


def test_parameters_cell(tmp_path: Path) -> None:
    tagged = check(tmp_path / "a", code("x = 1"), code("lr = 0.1", tags=("parameters",)))
    assert item(tagged, "parameters-cell") == (True, "cell 2 is tagged")
    untagged = check(tmp_path / "b", code("lr = 0.1", tags=("params",)))
    assert not item(untagged, "parameters-cell")[0]


def test_seeds(tmp_path: Path) -> None:
    assert item(check(tmp_path / "a", *GOOD), "seeds")[0]
    unseeded = check(tmp_path / "b", code("import torch\nx = torch.randn(2)"))
    passed, detail = item(unseeded, "seeds")
    assert not passed and "torch.randn" in detail


def test_tests_item(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "tests" / "unit").mkdir(parents=True)
    assert item(check(tmp_path / "n0", *GOOD), "tests") == (False, "no project given")
    assert not item(check(tmp_path / "n1", *GOOD, project=project), "tests")[0]
    (project / "tests" / "helpers.py").write_text("")
    assert not item(check(tmp_path / "n2", *GOOD, project=project), "tests")[0]
    (project / "tests" / "unit" / "test_model.py").write_text("")
    assert item(check(tmp_path / "n3", *GOOD, project=project), "tests")[0]


def test_version_control_found_upwards(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    nested = root / "a" / "b"
    nested.mkdir(parents=True)
    assert git_work_tree(nested) is None or git_work_tree(nested) != root
    (root / ".git").mkdir()
    assert git_work_tree(nested) == root.resolve()
    assert item(check(nested / "nb", *GOOD), "version-control")[0]  # from the notebook's folder
    assert item(check(tmp_path / "nb", *GOOD, project=nested), "version-control")[0]


def test_version_control_worktree_file(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: /elsewhere/.git/worktrees/wt\n")
    assert git_work_tree(tmp_path / "wt") == (tmp_path / "wt").resolve()


def test_version_control_missing(tmp_path: Path) -> None:
    if git_work_tree(tmp_path) is not None:
        pytest.skip(f"{tmp_path} is inside a git work tree")
    passed, detail = item(check(tmp_path / "nb", *GOOD, project=tmp_path), "version-control")
    assert not passed and "git init" in detail


@pytest.mark.parametrize("path", notebook_params())
def test_real_notebooks_are_not_verified_yet(path: Path) -> None:
    analysis = analyse(load_notebook(path))
    result = readiness(analysis, lint(analysis))
    passed, detail = item(result, "runs-top-to-bottom")
    assert not passed and detail.startswith("not verified yet")  # outputs were cleared
    assert not item(result, "parameters-cell")[0]
    assert 0 <= result.score <= 50
