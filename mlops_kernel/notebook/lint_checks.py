"""Lint checks that need one cell at a time (its AST, magics, metadata), plus hidden-state.

Each check is a generator of findings; :mod:`mlops_kernel.notebook.lint` runs
them all and sorts the result.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from mlops_kernel.notebook.analysis import CellAnalysis, NotebookAnalysis
from mlops_kernel.notebook.lint_lessons import finding, names, where
from mlops_kernel.notebook.lint_text import excerpt
from mlops_kernel.notebook.schemas import Finding
from mlops_kernel.notebook.source import Magic

PARAMETERS_TAG = "parameters"

_ASSIGNED = re.compile(r"^[A-Za-z_][\w, ]*=\s*")
_INSTALL = re.compile(
    r"^[!%]+\s*(?:(?:python3?|py)\s+-m\s+)?(?:pip3?|conda|mamba|micromamba|uv\s+pip)\s+install\b"
)
_SHELL_MAGICS = {"system", "sx", "sc", "bash", "sh", "script", "!", "writefile", "file"}


def _command(magic: Magic) -> str:
    """The magic's text without an ``x = `` in front (``files = !ls`` -> ``!ls``)."""
    return _ASSIGNED.sub("", magic.text, count=1)


def _magic_name(text: str) -> str:
    body = text.lstrip("%")
    return body.split(maxsplit=1)[0] if body.split() else ""


def is_install(magic: Magic) -> bool:
    return bool(_INSTALL.match(_command(magic)))


def is_shell(magic: Magic) -> bool:
    """A shell command: ``!cmd``, ``%system``/``%sx``, or a ``%%bash``-like cell magic."""
    text = _command(magic)
    if magic.kind == "shell" or text.startswith("!"):
        return True
    return magic.kind in ("line-magic", "cell-magic") and _magic_name(text) in _SHELL_MAGICS


def check_magics(info: CellAnalysis) -> Iterator[Finding]:
    """pip-install, shell-escape (one per line) and ipython-syntax (one per cell, the rest)."""
    cell = info.cell
    other: list[Magic] = []
    for magic in info.magics:
        text = excerpt(_command(magic))
        if is_install(magic):
            message = f"{where(cell, magic.line)} installs packages with '{text}'"
            yield finding("pip-install", cell, message, magic.line)
        elif is_shell(magic):
            message = f"{where(cell, magic.line)} runs the shell command '{text}'"
            yield finding("shell-escape", cell, message, magic.line)
        else:
            other.append(magic)
    if other:
        shown = names({excerpt(magic.text, 40) for magic in other})
        what = "IPython-only lines" if len(other) > 1 else "an IPython-only line"
        message = f"{where(cell)} has {what} the module leaves out: {shown}"
        yield finding("ipython-syntax", cell, message, other[0].line)


def check_syntax(info: CellAnalysis) -> Iterator[Finding]:
    if info.syntax_error is not None:
        line, reason = info.syntax_error
        message = f"{where(info.cell, line)} is not valid Python ({reason})"
        yield finding("syntax-error", info.cell, message, line)


def check_star_imports(info: CellAnalysis) -> Iterator[Finding]:
    if info.tree is None:
        return
    for node in ast.walk(info.tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            module = "." * node.level + (node.module or "")
            message = f"'from {module} import *' in {where(info.cell, node.lineno)}"
            yield finding("star-import", info.cell, message, node.lineno)


def check_size(info: CellAnalysis, max_lines: int) -> Iterator[Finding]:
    count = sum(1 for line in info.cell.source.splitlines() if line.strip())
    if count > max_lines:
        message = f"{where(info.cell)} has {count} non-blank lines (more than {max_lines})"
        yield finding("oversized-cell", info.cell, message)


def check_parameters_cell(analysis: NotebookAnalysis) -> Iterator[Finding]:
    if not has_parameters_cell(analysis):
        message = f"no cell is tagged '{PARAMETERS_TAG}'"
        yield finding("no-parameters-cell", None, message)


def has_parameters_cell(analysis: NotebookAnalysis) -> bool:
    return any(PARAMETERS_TAG in cell.tags for cell in analysis.notebook.code_cells)


def out_of_order(analysis: NotebookAnalysis) -> tuple[int, int] | None:
    """(earlier cell, later cell) notebook indices of the first pair that ran out of order.

    Only cells that ran (with an execution count) are compared, in document
    order; the later cell is the first whose count is not above every count
    before it.
    """
    highest: tuple[int, int] | None = None  # (count, index)
    for cell in analysis.notebook.code_cells:
        count = cell.execution_count
        if count is None:
            continue
        if highest is not None and count <= highest[0]:
            return highest[1], cell.index
        if highest is None or count > highest[0]:
            highest = (count, cell.index)
    return None


def check_hidden_state(analysis: NotebookAnalysis) -> Iterator[Finding]:
    pair = out_of_order(analysis)
    if pair is None:
        return
    cells = {cell.index: cell for cell in analysis.notebook.cells}
    before, after = cells[pair[0]], cells[pair[1]]
    message = (
        f"{where(after)} ran as [{after.execution_count}] but {where(before)} above it ran "
        f"later, as [{before.execution_count}]: the cells ran out of order"
    )
    yield finding("hidden-state", after, message)
