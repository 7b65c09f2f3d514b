"""Running the instrumented notebook with papermill, and explaining a failure.

A papermill *engine* (papermill's plug-in point for executing a notebook) is
registered under :data:`ENGINE`: it is papermill's own nbclient engine plus three
things the capture needs: a hook on every finished cell (live progress), the
kernel's environment (``MPLBACKEND=Agg``) and its working directory, given to the
kernel itself rather than by changing this process's directory.

Every instrumented cell carries ``metadata["mlops"]``: ``{"cell": i}`` for the
user's cell ``i`` of the original notebook, ``{"capture": kind, "step": name}``
for the cells the capture added. A failure is mapped back through it.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_kernel.notebook.errors import (
    CellExecutionError,
    KernelUnavailableError,
    NotebookError,
)

ENGINE = "mlops-capture"
KERNEL_NAME = "python3"

Progress = Callable[[int, int, str], None]


@dataclass
class RunHooks:
    """What the engine needs from :func:`run_capture`, and what it learns while running."""

    total: int
    env: dict[str, str]
    cwd: Path
    log: Path
    """Where the kernel process's own stdout and stderr go (its start-up messages...)."""
    progress: Progress | None = None
    done: int = 0
    current: dict[str, Any] = field(default_factory=dict)
    started_any: bool = False

    def attach(self, nb_man: Any) -> None:
        """Wrap papermill's per-cell callbacks on this run's execution manager."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        start, complete = nb_man.cell_start, nb_man.cell_complete

        def cell_start(cell: Any, cell_index: int | None = None, **kwargs: Any) -> Any:
            self.current = dict(cell.metadata.get("mlops", {}))
            self.started_any = True
            return start(cell, cell_index, **kwargs)

        def cell_complete(cell: Any, cell_index: int | None = None, **kwargs: Any) -> Any:
            result = complete(cell, cell_index, **kwargs)
            failed = cell.metadata.get("papermill", {}).get("status") == "failed"
            # called from a ``finally``: a cell that timed out or killed the kernel is not done
            failed = failed or isinstance(sys.exc_info()[1], CellTimeoutError | DeadKernelError)
            index = cell.metadata.get("mlops", {}).get("cell")
            if index is not None and not failed:
                self.done += 1
                if self.progress is not None:
                    self.progress(self.done, self.total, f"cell {index + 1}")
            return result

        nb_man.cell_start = cell_start
        nb_man.cell_complete = cell_complete


@functools.cache
def register_engine() -> None:
    """Register the capture engine with papermill (once per process)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    logger = logging.getLogger("papermill")

    class CaptureEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            hooks: RunHooks = kwargs.pop("mlops_hooks")
            hooks.attach(nb_man)
            client = PapermillNotebookClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            with open(hooks.log, "ab") as log:
                return client.execute(env=hooks.env, cwd=str(hooks.cwd), stdout=log, stderr=log)

    papermill_engines.register(ENGINE, CaptureEngine)


def check_kernel() -> None:
    """Fail early and clearly when there is no ``python3`` kernel to start."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise KernelUnavailableError(
            f"no Jupyter kernel named {KERNEL_NAME!r} in this environment: install ipykernel "
            "here (pip install ipykernel) so the notebook can run in a fresh kernel"
        ) from None


def explain_failure(hooks: RunHooks, exc: BaseException, timeout_s: int) -> NotebookError | None:
    """The NotebookError for a failed run, or None when ``exc`` is not a run failure."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, NoSuchKernel):
        return KernelUnavailableError(f"no Jupyter kernel named {KERNEL_NAME!r}: {exc}")
    if isinstance(exc, PapermillExecutionError):
        return _failure(hooks.current, str(exc.ename), str(exc.evalue))
    if isinstance(exc, CellTimeoutError):
        return _failure(hooks.current, "TimeoutError", f"the cell ran longer than {timeout_s} s")
    if isinstance(exc, DeadKernelError | RuntimeError) and not hooks.started_any:
        said = _tail(hooks.log)
        return KernelUnavailableError(
            f"the Jupyter kernel {KERNEL_NAME!r} did not start: {exc}"
            + (f" (it said: {said})" if said else "")
        )
    if isinstance(exc, DeadKernelError):
        return _failure(hooks.current, "DeadKernelError", "the kernel died while running it")
    return None


def _tail(path: Path) -> str:
    """The kernel log's last line that says something."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""


def _failure(where: dict[str, Any], ename: str, evalue: str) -> NotebookError:
    first = evalue.strip().splitlines()[0] if evalue.strip() else ""
    if "cell" in where:
        return CellExecutionError(int(where["cell"]), ename, evalue, lesson(ename, evalue))
    if ename in ("ModuleNotFoundError", "ImportError") and "mlops_kernel" in evalue:
        return KernelUnavailableError(
            f"the Jupyter kernel {KERNEL_NAME!r} cannot import mlops_kernel ({first}): "
            "install jupyter-mlops in the kernel's Python environment"
        )
    kind = where.get("capture")
    if kind in ("inputs", "outputs"):
        what = f"recording the {kind} of step {where.get('step')!r}"
    elif kind == "seed":
        what = "seeding the random generators"
    else:
        what = "setting the notebook's parameters"
    return NotebookError(f"{what} failed in the fresh kernel: {ename}: {first}".rstrip(": "))


def lesson(ename: str, evalue: str) -> str:
    """Why a cell that worked in the user's kernel fails in a fresh one, and the fix."""
    if ename in ("ModuleNotFoundError", "ImportError"):
        found = re.search(r"No module named '([^']+)'", evalue)
        module = found.group(1).split(".")[0] if found else "the module"
        return (
            f"The fresh kernel runs in this environment, where {module} cannot be imported. "
            f"Install it here (pip install {module}) and declare it in the project's "
            "dependencies, so that training environments get it too."
        )
    if ename == "FileNotFoundError":
        return (
            "The notebook reads a file that is not there when it runs from its own folder. "
            "Use a path relative to the notebook (or make it a parameter), not one that only "
            "exists on your machine or in the folder your kernel happened to start in."
        )
    if ename in ("NameError", "UnboundLocalError"):
        return (
            "The notebook relies on hidden state: the name was defined by a cell that ran out "
            "of order or has since been changed or deleted. Define it in a cell above its "
            "first use, then check with Restart Kernel and Run All."
        )
    if ename == "TimeoutError":
        return (
            "The cell ran past the time limit of the capture run. Make the work smaller while "
            "extracting (a parameter for the data size or the number of epochs), or raise the "
            "limit."
        )
    if ename == "DeadKernelError":
        return (
            "The kernel process died, usually from running out of memory or a crash in "
            "native code. Use less data while extracting, or free memory before this cell."
        )
    return (
        "The notebook does not run top to bottom in a fresh kernel. Fix this cell until "
        "Restart Kernel and Run All succeeds, then extract again."
    )
