"""Production readiness: a short checklist and a score (the percentage of items passed).

The items are stable ids: ``runs-top-to-bottom``, ``parameters-cell``,
``seeds``, ``no-hidden-state``, ``tests`` and ``version-control``. Each says in
``detail`` why it passed or what to do; nothing here starts a process (git is
found by looking for a ``.git`` entry upwards).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mlops_kernel.notebook.analysis import NotebookAnalysis
from mlops_kernel.notebook.lint_checks import PARAMETERS_TAG, has_parameters_cell
from mlops_kernel.notebook.lint_lessons import where
from mlops_kernel.notebook.schemas import CheckItem, Finding, Readiness
from mlops_kernel.notebook.source import Cell

ITEM_IDS = (
    "runs-top-to-bottom",
    "parameters-cell",
    "seeds",
    "no-hidden-state",
    "tests",
    "version-control",
)


def readiness(
    analysis: NotebookAnalysis, findings: list[Finding], *, project: Path | None = None
) -> Readiness:
    """The checklist for ``analysis`` given its lint ``findings``."""
    items = [
        _runs_top_to_bottom(analysis),
        _parameters(analysis),
        _seeds(findings),
        _hidden_state(findings),
        _tests(project),
        _version_control(project, analysis.notebook.path),
    ]
    score = round(100 * sum(item.passed for item in items) / len(items))
    return Readiness(score=score, checklist=items)


def _runs_top_to_bottom(analysis: NotebookAnalysis) -> CheckItem:
    label = "Runs top to bottom"
    cells = [cell for cell in analysis.notebook.code_cells if cell.source.strip()]
    counts = [cell.execution_count for cell in cells]
    if all(count is None for count in counts):
        detail = "not verified yet: no cell has been run; restart the kernel and run all cells"
        return CheckItem(id="runs-top-to-bottom", label=label, passed=False, detail=detail)
    never = [cell for cell in cells if cell.execution_count is None]
    if never:
        detail = f"not verified: {_cells(never)} never ran; restart the kernel and run all cells"
        return CheckItem(id="runs-top-to-bottom", label=label, passed=False, detail=detail)
    failed = [cell for cell in cells if any(o.get("output_type") == "error" for o in cell.outputs)]
    if failed:
        detail = f"{_cells(failed)} ended with an error"
        return CheckItem(id="runs-top-to-bottom", label=label, passed=False, detail=detail)
    if counts != list(range(1, len(cells) + 1)):
        detail = (
            "the execution counts are not 1, 2, 3, ... in order: cells were re-run or run out "
            "of order; restart the kernel and run all cells"
        )
        return CheckItem(id="runs-top-to-bottom", label=label, passed=False, detail=detail)
    detail = f"all {len(cells)} code cells ran once, in order, without errors"
    return CheckItem(id="runs-top-to-bottom", label=label, passed=True, detail=detail)


def _cells(cells: list[Cell]) -> str:
    shown = [where(cell) for cell in cells[:3]]
    more = f" and {len(cells) - 3} more" if len(cells) > 3 else ""
    return ", ".join(shown) + more


def _parameters(analysis: NotebookAnalysis) -> CheckItem:
    label = "Has a parameters cell"
    if has_parameters_cell(analysis):
        cell = next(c for c in analysis.notebook.code_cells if PARAMETERS_TAG in c.tags)
        return CheckItem(
            id="parameters-cell", label=label, passed=True, detail=f"{where(cell)} is tagged"
        )
    detail = f"tag the cell that holds paths and hyperparameters '{PARAMETERS_TAG}'"
    return CheckItem(id="parameters-cell", label=label, passed=False, detail=detail)


def _about(findings: Iterable[Finding], *ids: str) -> list[Finding]:
    return [item for item in findings if item.id in ids]


def _seeds(findings: list[Finding]) -> CheckItem:
    label = "Randomness is seeded"
    unseeded = _about(findings, "unseeded-random")
    if not unseeded:
        detail = "every random draw found is seeded (or there is none)"
        return CheckItem(id="seeds", label=label, passed=True, detail=detail)
    detail = f"{len(unseeded)} unseeded: {unseeded[0].message}"
    return CheckItem(id="seeds", label=label, passed=False, detail=detail)


def _hidden_state(findings: list[Finding]) -> CheckItem:
    label = "No hidden state"
    problems = _about(findings, "hidden-state", "use-before-define", "undefined-name")
    if not problems:
        detail = "cells ran in order and read only names defined above them"
        return CheckItem(id="no-hidden-state", label=label, passed=True, detail=detail)
    return CheckItem(id="no-hidden-state", label=label, passed=False, detail=problems[0].message)


def _tests(project: Path | None) -> CheckItem:
    label = "Project has tests"
    if project is None:
        detail = "no project given"
        return CheckItem(id="tests", label=label, passed=False, detail=detail)
    folder = project / "tests"
    found = sorted(folder.rglob("test_*.py")) if folder.is_dir() else []
    if found:
        detail = f"{len(found)} test file{'s' if len(found) > 1 else ''} under tests/"
        return CheckItem(id="tests", label=label, passed=True, detail=detail)
    detail = "no tests/test_*.py in the project yet; extracting the notebook writes some"
    return CheckItem(id="tests", label=label, passed=False, detail=detail)


def git_work_tree(start: Path) -> Path | None:
    """The directory holding ``.git`` (a folder, or a file for worktrees) at or above ``start``."""
    try:
        current = start.resolve()
    except OSError:
        return None
    for folder in [current, *current.parents]:
        if (folder / ".git").exists():
            return folder
    return None


def _version_control(project: Path | None, notebook: Path | None) -> CheckItem:
    label = "Under version control"
    start = project if project is not None else (notebook.parent if notebook else None)
    if start is None:
        detail = "unknown: no project or notebook path given"
        return CheckItem(id="version-control", label=label, passed=False, detail=detail)
    root = git_work_tree(start)
    if root is None:
        detail = f"{start} is not inside a git repository; run 'git init' there"
        return CheckItem(id="version-control", label=label, passed=False, detail=detail)
    return CheckItem(id="version-control", label=label, passed=True, detail=f"git work tree {root}")
