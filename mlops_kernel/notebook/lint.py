"""Notebook lint: findings that teach why a notebook habit hurts in production, and the fix.

``lint`` runs every check over an analysed notebook and returns the findings
sorted by cell (notebook-level findings first), then severity, then line.
The check ids are stable and listed in :data:`CHECK_IDS`; each finding
carries a one-line message naming the thing and a short lesson.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mlops_kernel.notebook.analysis import NotebookAnalysis
from mlops_kernel.notebook.lint_checks import (
    check_hidden_state,
    check_magics,
    check_parameters_cell,
    check_size,
    check_star_imports,
    check_syntax,
)
from mlops_kernel.notebook.lint_flow import check_definition_order, check_unused
from mlops_kernel.notebook.lint_frames import check_frames
from mlops_kernel.notebook.lint_lessons import CHECKS, SEVERITY_RANK
from mlops_kernel.notebook.lint_random import check_random
from mlops_kernel.notebook.lint_text import check_paths, check_secrets
from mlops_kernel.notebook.schemas import Finding

CHECK_IDS: tuple[str, ...] = tuple(CHECKS)
"""Every finding id lint can produce."""

DEFAULT_MAX_CELL_LINES = 60


def lint(
    analysis: NotebookAnalysis,
    *,
    project: Path | None = None,
    max_cell_lines: int = DEFAULT_MAX_CELL_LINES,
) -> list[Finding]:
    """All findings for ``analysis``, sorted by cell, then severity, then line.

    ``project`` (the directory the notebook is extracted into) only refines
    messages, e.g. an absolute path inside the project is shown relative to it.
    """
    findings = list(_all(analysis, project, max_cell_lines))
    return sorted(findings, key=_order)


def _all(
    analysis: NotebookAnalysis, project: Path | None, max_cell_lines: int
) -> Iterator[Finding]:
    yield from check_parameters_cell(analysis)
    yield from check_hidden_state(analysis)
    for info in analysis.cells:
        yield from check_syntax(info)
        yield from check_magics(info)
        yield from check_star_imports(info)
        yield from check_paths(info, project)
        yield from check_size(info, max_cell_lines)
    yield from check_secrets(analysis)
    yield from check_definition_order(analysis)
    yield from check_random(analysis)
    yield from check_frames(analysis)
    yield from check_unused(analysis)


def _order(item: Finding) -> tuple[int, int, int, str, str]:
    cell = -1 if item.cell is None else item.cell
    return cell, SEVERITY_RANK[item.severity], item.line or 0, item.id, item.message
