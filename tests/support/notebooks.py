"""The real notebooks in ``../shared/notebooks`` (beside the checkout), used where they are."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mlops_kernel.notebook.analysis import NotebookAnalysis

SHARED_NOTEBOOKS = Path(__file__).resolve().parents[3] / "shared" / "notebooks"


def shared_notebooks() -> list[Path]:
    """Every shared notebook, sorted; empty when the folder is absent."""
    if not SHARED_NOTEBOOKS.is_dir():
        return []
    return sorted(SHARED_NOTEBOOKS.glob("*.ipynb"))


def require_shared_notebooks() -> list[Path]:
    """The shared notebooks, or a clear skip saying why there are none."""
    found = shared_notebooks()
    if not found:
        pytest.skip(f"no shared notebooks at {SHARED_NOTEBOOKS} (the folder beside the checkout)")
    return found


def notebook_params() -> list[object]:
    """pytest parameters, one per shared notebook (one skipped entry when there are none)."""
    found = shared_notebooks()
    if not found:
        reason = f"no shared notebooks at {SHARED_NOTEBOOKS}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-notebooks")]
    return [pytest.param(path, id=path.stem) for path in found]


NotebookCell = str | tuple[str, list[str]] | dict[str, Any]
"""A cell for ``build_notebook``: source (``md:`` first for markdown), ``(source, tags)``,
or a whole nbformat cell (from ``code_cell``)."""


def code_cell(
    source: str,
    count: int | None = None,
    tags: tuple[str, ...] = (),
    outputs: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """A code cell with an execution count and outputs, which plain sources cannot say."""
    import nbformat

    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = [nbformat.from_dict(output) for output in outputs]
    return dict(cell)


def markdown_cell(source: str) -> dict[str, Any]:
    """A markdown cell, for cell lists where every plain string is code."""
    import nbformat

    return dict(nbformat.v4.new_markdown_cell(source))


def build_notebook(
    path: Path,
    cells: Sequence[NotebookCell],
    *,
    language: str = "python",
    execution_counts: list[int | None] | None = None,
) -> Path:
    """Write a small nbformat-4 notebook: strings starting with ``md:`` are markdown.

    A cell given as ``(source, tags)`` gets those tags; a dict is used as it is.
    Returns ``path``.
    """
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": language}  # fmt: skip
    counts = iter(execution_counts or [])
    for entry in cells:
        if isinstance(entry, dict):
            notebook.cells.append(nbformat.from_dict(entry))
            continue
        source, tags = (entry, []) if isinstance(entry, str) else entry
        if source.startswith("md:"):
            cell = nbformat.v4.new_markdown_cell(source[3:].lstrip())
        else:
            cell = nbformat.v4.new_code_cell(source)
            cell.execution_count = next(counts, None)
        if tags:
            cell.metadata["tags"] = list(tags)
        notebook.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def analysed_notebook(folder: Path, *cells: NotebookCell) -> NotebookAnalysis:
    """The kernel's analysis of ``folder/notebook.ipynb`` built from ``cells``.

    The notebook goes through a real file and ``load_notebook``, as users' notebooks do.
    """
    from mlops_kernel.notebook.analysis import analyse
    from mlops_kernel.notebook.source import load_notebook

    return analyse(load_notebook(build_notebook(folder / "notebook.ipynb", cells)))
