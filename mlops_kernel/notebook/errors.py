"""The exception tree of notebook analysis and extraction.

Every message is one line a data scientist can act on; the daemon maps the
classes to HTTP codes (format and selection problems 400, git 409, a failed
notebook run or failing generated tests 422).
"""

from __future__ import annotations


class NotebookError(Exception):
    """Base class: the notebook cannot be analysed or extracted as asked."""


class NotebookFormatError(NotebookError):
    """Not a notebook we can read: invalid JSON, nbformat < 4, empty, not Python."""


class SelectionError(NotebookError):
    """The selected cells cannot become a module (bad indices, inputs from nowhere)."""


class CellExecutionError(NotebookError):
    """A cell failed when the notebook ran top to bottom in a fresh kernel."""

    def __init__(self, cell: int, ename: str, evalue: str, lesson: str) -> None:
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        self.lesson = lesson
        first = evalue.strip().splitlines()[0] if evalue.strip() else ""
        super().__init__(f"cell {cell + 1} failed in a fresh kernel: {ename}: {first}".rstrip(": "))


class GeneratedTestsFailed(NotebookError):
    """The generated tests did not pass against the generated module."""

    def __init__(self, message: str, output: str = "") -> None:
        self.output = output
        super().__init__(message)


class KernelUnavailableError(NotebookError):
    """No usable Jupyter kernel: none named python3, or it cannot start or import us."""


class VersioningError(NotebookError):
    """git could not record the new version (not a repository, git missing, ...)."""
