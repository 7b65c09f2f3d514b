"""The kernel's notebook functions as the daemon and CLI call them.

``mlops_kernel.notebook.extract`` (lint, plan, extract) is imported when first
used, never at import time: it pulls in the notebook machinery, which neither
the daemon's start nor the other commands need. Its exceptions become the
daemon's own (``errors.py``) here, in one place. Everything here blocks (files,
analysis, a fresh kernel): the daemon calls it off the event loop.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from mlops_kernel.notebook.errors import (
    CellExecutionError,
    GeneratedTestsFailed,
    KernelUnavailableError,
    NotebookError,
    NotebookFormatError,
    SelectionError,
    VersioningError,
)
from mlops_kernel.notebook.jobs_schemas import JobError, JobProgress
from mlops_kernel.notebook.schemas import (
    ExtractionPlan,
    ExtractionRequest,
    ExtractionResult,
    LintReport,
)

from .errors import Conflict, InvalidInput, MlopsError, NotFound, Unprocessable

KERNEL_MODULE = "mlops_kernel.notebook.extract"

ERROR_KINDS: dict[type[NotebookError], str] = {
    NotebookFormatError: "notebook_format",
    SelectionError: "selection",
    VersioningError: "versioning",
    CellExecutionError: "cell_execution",
    GeneratedTestsFailed: "generated_tests_failed",
    KernelUnavailableError: "kernel_unavailable",
}


def kernel() -> ModuleType:
    """The kernel's extraction module (imported on first use)."""
    return importlib.import_module(KERNEL_MODULE)


# -- the calls -------------------------------------------------------------------


def lint(notebook: Path, project: Path | None) -> LintReport:
    with translated():
        report: LintReport = kernel().lint_notebook(notebook, project)
    return report


def plan(request: ExtractionRequest) -> ExtractionPlan:
    with translated():
        result: ExtractionPlan = kernel().plan_extraction(request)
    return result


def extract(
    request: ExtractionRequest, progress: Callable[[Any], None] | None = None
) -> ExtractionResult:
    """Run the extraction; kernel errors propagate as they are (the job records them)."""
    result: ExtractionResult = kernel().extract(request, progress)
    return result


# -- paths -----------------------------------------------------------------------


def resolve_paths(notebook: str, project: str | None) -> tuple[Path, Path]:
    """The notebook file and project directory a request names, absolute and resolved.

    A relative notebook is relative to the project; the project defaults to the
    notebook's directory. A missing notebook is NotFound, anything else unusable
    InvalidInput.
    """
    try:
        root = Path(project) if project is not None else None
        if root is not None and not root.is_absolute():
            raise InvalidInput(f"project {project!r} must be an absolute path")
        path = Path(notebook)
        if not path.is_absolute():
            if root is None:
                raise InvalidInput(
                    f"notebook {notebook!r} must be an absolute path (or give the project "
                    "it is relative to)"
                )
            path = root / path
        if not path.exists():
            raise NotFound(f"notebook {path} does not exist")
        if not path.is_file():
            raise InvalidInput(f"notebook {path} is not a file")
        root = root if root is not None else path.parent
        if not root.is_dir():
            what = "does not exist" if not root.exists() else "is not a directory"
            raise InvalidInput(f"project {root} {what}")
        return path.resolve(), root.resolve()
    except (OSError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{notebook!r} is not a usable path: {exc}") from exc


def is_git_repo(project: Path) -> bool:
    """Whether ``project`` is inside a git work tree (a ``.git`` here or above)."""
    return any((folder / ".git").exists() for folder in (project, *project.parents))


def check_versioning(request: ExtractionRequest, project: Path) -> None:
    if not request.git_init and not is_git_repo(project):
        raise Conflict(
            f"{project} is not a git repository, and extracted modules are versioned "
            "with git: run `git init` there, or ask for it (git_init: true; "
            "`mlops extract --yes`)"
        )


# -- errors ----------------------------------------------------------------------


@contextmanager
def translated() -> Iterator[None]:
    """Turn kernel errors raised in the block into the daemon's exception tree."""
    try:
        yield
    except NotebookError as exc:
        raise translate(exc) from exc


def translate(exc: NotebookError) -> MlopsError:
    """The daemon's error for a kernel error: format and selection problems are bad
    input (400), git problems a conflict (409), a failed run or tests 422."""
    message = str(exc)
    if isinstance(exc, NotebookFormatError | SelectionError):
        return InvalidInput(message)
    if isinstance(exc, VersioningError):
        return Conflict(message)
    error = job_error(exc)
    details = {k: str(v) for k, v in error.model_dump(exclude={"message"}).items() if v is not None}
    return Unprocessable(message, details=[details])


def job_error(exc: BaseException) -> JobError:
    """What a failed extraction job reports: kind, message, cell and lesson."""
    if not isinstance(exc, NotebookError):
        return JobError(
            kind="internal",
            message=f"the extraction hit an unexpected error: {exc!r}; the daemon's log "
            "($MLOPS_HOME/daemon.log) has the details",
        )
    kind = next((k for cls, k in ERROR_KINDS.items() if isinstance(exc, cls)), "notebook")
    error = JobError(kind=kind, message=str(exc))
    if isinstance(exc, CellExecutionError):
        error.cell = exc.cell
        error.lesson = exc.lesson
    if isinstance(exc, GeneratedTestsFailed):
        error.output = exc.output[-4000:] or None
    lesson = getattr(exc, "lesson", None)
    if error.lesson is None and isinstance(lesson, str) and lesson:
        error.lesson = lesson
    return error


def progress_of(report: Any) -> JobProgress:
    """The kernel's progress report (an ``ExtractionProgress``) as the wire model."""
    return JobProgress(
        stage=str(report.stage),
        done=int(report.done),
        total=int(report.total),
        message=str(report.message),
    )
