"""Run the notebook top to bottom in a fresh kernel and capture every step's boundary values.

The characterisation tests of an extracted module compare each step function with
what the notebook computed. To know that, an instrumented copy of the notebook
(never the user's file) runs under papermill: a seed cell, a ``parameters`` cell,
then for each step a capture cell that stores its inputs and the random generators'
states, the step's cells, and a capture cell that fingerprints its outputs. The
capture cells call :mod:`mlops_kernel.notebook.capture_cells` (which documents the
fixture layout); this module builds the notebook, runs it and reads the results back.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_kernel.notebook import capture_cells
from mlops_kernel.notebook.capture_engine import (
    ENGINE,
    KERNEL_NAME,
    RunHooks,
    check_kernel,
    explain_failure,
    register_engine,
)
from mlops_kernel.notebook.errors import KernelUnavailableError, SelectionError

__all__ = [
    "CAPTURE_TAG",
    "CaptureError",
    "CapturePlan",
    "CaptureResult",
    "KernelUnavailableError",
    "StepCapture",
    "StepSpec",
    "instrument_notebook",
    "run_capture",
    "scratch_workdir",
]

CAPTURE_TAG = "mlops-capture"
"""Tag of the cells the capture adds; their outputs are never read as the notebook's."""

LINK_WHOLE = frozenset({"node_modules", "venv", "env", "__pycache__", "site-packages"})
"""Directories that :func:`scratch_workdir` links as a whole (as it does hidden ones)."""

MIRROR_BUDGET = 5_000
"""At most this many links and folders are made; past it, directories are linked whole."""


class CaptureError(SelectionError):
    """The capture plan cannot run: duplicate step names, a parameter no cell can spell."""


@dataclass(frozen=True)
class StepSpec:
    name: str
    cells: tuple[int, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class CapturePlan:
    notebook: Path
    steps: tuple[StepSpec, ...]
    cell_sources: Mapping[int, str]
    params: Mapping[str, object]
    seed: int
    seed_torch: bool
    size_cap_bytes: int = 20_000_000
    timeout_s: int = 600


@dataclass
class StepCapture:
    name: str
    inputs_file: str | None
    inputs_sha256: str | None
    rng_file: str | None
    rng_sha256: str | None
    outputs: dict[str, dict[str, Any]]
    note: str = ""
    files: dict[str, str] = field(default_factory=dict)
    """Files earlier cells wrote, present when the step started: {relative path: sha256}."""
    main_names: list[str] = field(default_factory=list)
    """Names the stored inputs look up in ``__main__``: classes and functions the notebook
    defined, which the extracted module must define at its top level."""


@dataclass
class CaptureResult:
    steps: list[StepCapture]
    printed: dict[str, list[float]]
    final_values: dict[str, float]
    cell_seconds: dict[int, float]
    notebook: str = field(default="")
    displayed: dict[int, str] = field(default_factory=dict)
    """The value each cell displayed (its ``execute_result`` as plain text), by cell index."""
    """The notebook's file name (for the generated tests' docstring)."""


def scratch_workdir(notebook_dir: Path, into: Path) -> Path:
    """Fill ``into`` with links to everything in ``notebook_dir``; returns ``into``.

    Folders are recreated (hidden and tool folders are linked whole) and files are
    symlinked, so the notebook's relative reads work while the files it creates,
    even inside its existing folders, land in ``into``. A file the notebook opens
    for writing *in place* still goes through its link to the original.
    """
    into.mkdir(parents=True, exist_ok=True)
    _mirror(Path(notebook_dir).resolve(), into, into.resolve(), [MIRROR_BUDGET])
    return into


def _mirror(source: Path, target: Path, avoid: Path, budget: list[int]) -> None:
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        path = Path(entry.path)
        link = target / entry.name
        if path.resolve() == avoid or link.exists() or link.is_symlink():
            continue
        budget[0] -= 1
        whole = entry.name.startswith(".") or entry.name in LINK_WHOLE or budget[0] <= 0
        if entry.is_dir(follow_symlinks=False) and not whole:
            link.mkdir()
            _mirror(path, link, avoid, budget)
        else:
            link.symlink_to(path, target_is_directory=entry.is_dir())


def run_capture(
    plan: CapturePlan,
    fixtures_dir: Path,
    workdir: Path,
    progress: Callable[[int, int, str], None] | None = None,
) -> CaptureResult:
    """Run the plan's notebook in a fresh ``python3`` kernel; store fixtures; report values.

    ``fixtures_dir`` receives the fixture files (replacing an earlier capture's, only
    once this run succeeded); the kernel runs in ``workdir`` (see
    :func:`scratch_workdir`). ``progress(done, total, "cell N")`` is called as each of
    the notebook's cells finishes (N counts from 1, as the error messages do); an
    exception raised by it stops the run. A failing cell raises
    :class:`~mlops_kernel.notebook.errors.CellExecutionError` with the original cell's
    index; a missing kernel raises :class:`KernelUnavailableError`.
    """
    import nbformat
    import papermill

    _check_plan(plan)
    check_kernel()
    register_engine()
    with tempfile.TemporaryDirectory(prefix="mlops-capture-") as tmp:
        scratch = Path(tmp)
        stage = scratch / "fixtures"
        stage.mkdir()
        baseline = scratch / "baseline.json"
        baseline.write_text(json.dumps(capture_cells.regular_files(Path(workdir))))
        nb = instrument_notebook(plan, stage, baseline)
        source, executed = scratch / "instrumented.ipynb", scratch / "executed.ipynb"
        write: Any = nbformat.write  # untyped library
        write(nb, str(source))
        env = {**os.environ, "MPLBACKEND": "Agg"}
        total = sum(1 for cell in nb.cells if "cell" in cell.metadata["mlops"])
        hooks = RunHooks(
            total=total,
            env=env,
            cwd=Path(workdir).resolve(),
            log=scratch / "kernel.log",
            progress=progress,
        )
        if progress is not None:
            progress(0, total, "starting a fresh kernel")
        try:
            done = papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=_papermill_params(plan.params) or None,
                engine_name=ENGINE,
                kernel_name=KERNEL_NAME,
                language="python",
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=plan.timeout_s,
                mlops_hooks=hooks,
            )
        except Exception as exc:
            failure = explain_failure(hooks, exc, plan.timeout_s)
            if failure is None:
                raise
            raise failure from None
        result = _result(plan, done, stage)
        _install(stage, Path(fixtures_dir), plan, result)
    return result


def _check_plan(plan: CapturePlan) -> None:
    names = [step.name for step in plan.steps]
    if len(set(names)) != len(names):
        raise CaptureError(f"step names must be unique: {names}")
    for step in plan.steps:
        for name in (step.name, *step.inputs, *step.outputs):
            if not name.isidentifier():
                raise CaptureError(f"step {step.name!r}: {name!r} is not a Python identifier")
    for name, value in plan.params.items():
        if not name.isidentifier():
            raise CaptureError(f"parameter {name!r} is not a Python identifier")
        _param_source(name, value)  # raises for values a cell cannot spell


def instrument_notebook(plan: CapturePlan, fixtures_dir: Path, baseline: Path | None = None) -> Any:
    """The notebook papermill runs (an nbformat node): a seed cell, a ``parameters`` cell,
    and each step's code cells between a capture of its inputs and of its outputs.

    The capture cells write into ``fixtures_dir``; ``baseline`` is a JSON file of the
    working directory's files before the run (see ``capture_cells.begin``). Every
    cell's ``metadata["mlops"]`` says where it comes from (see
    :mod:`~mlops_kernel.notebook.capture_engine`).
    """
    import nbformat

    v4: Any = nbformat.v4  # untyped library
    folder = str(fixtures_dir)

    def capture(kind: str, step: str, call: str) -> Any:
        cell = v4.new_code_cell(
            f"# jupyter-mlops capture: {kind} of {step or 'the run'}\n"
            f'__import__("mlops_kernel.notebook.capture_cells", fromlist=["_"]).{call}'
        )
        cell.metadata["tags"] = [CAPTURE_TAG]
        cell.metadata["mlops"] = {"capture": kind, "step": step}
        return cell

    where = None if baseline is None else str(baseline)
    begin = f"begin({folder!r}, {plan.seed!r}, {plan.seed_torch!r}, {where!r})"
    cells = [capture("seed", "", begin)]
    params = v4.new_code_cell(
        "# Parameters\n" + "".join(_param_source(k, v) + "\n" for k, v in plan.params.items())
    )
    params.metadata["tags"] = ["parameters", CAPTURE_TAG]
    params.metadata["mlops"] = {"capture": "parameters", "step": ""}
    cells.append(params)
    for step in plan.steps:
        inputs = list(step.inputs)
        cells.append(
            capture(
                "inputs",
                step.name,
                f"record_inputs({step.name!r}, {inputs!r}, globals(), {folder!r}, "
                f"{plan.size_cap_bytes!r})",
            )
        )
        for index in step.cells:
            source = plan.cell_sources.get(index)
            if source is None:
                continue  # markdown, raw, or code the plan leaves out
            cell = v4.new_code_cell(source)
            cell.metadata["mlops"] = {"cell": index}
            cells.append(cell)
        outputs = list(step.outputs)
        call = f"record_outputs({step.name!r}, {outputs!r}, globals(), {folder!r})"
        cells.append(capture("outputs", step.name, call))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "language": "python",
        "display_name": "Python 3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _plain(value: object) -> bool:
    """Whether papermill's Python translator writes ``value`` back exactly."""
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _papermill_params(params: Mapping[str, object]) -> dict[str, object]:
    return {name: value for name, value in params.items() if _plain(value)}


def _param_source(name: str, value: object) -> str:
    """``name = <value>`` as a line of Python, for values papermill cannot translate too."""
    if _plain(value):
        from papermill.translators import PythonTranslator

        return f"{name} = {PythonTranslator.translate(value)}"
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value and type(ast.literal_eval(text)) is type(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        same = False
    if not same:
        raise CaptureError(
            f"parameter {name!r}: a {type(value).__name__} value cannot be written as a "
            "Python literal; parameters must be numbers, strings, booleans, None or "
            "lists, tuples and dicts of them"
        )
    return f"{name} = {text}"


def _result(plan: CapturePlan, nb: Any, stage: Path) -> CaptureResult:
    from mlops_kernel.printed_metrics import metrics_from_text

    manifest = json.loads((stage / capture_cells.MANIFEST).read_text(encoding="utf-8"))
    steps: list[StepCapture] = []
    for spec in plan.steps:
        entry = manifest["steps"][spec.name]
        outputs_path = stage / spec.name / capture_cells.OUTPUTS_FILE
        steps.append(
            StepCapture(
                name=spec.name,
                inputs_file=entry["inputs_file"],
                inputs_sha256=entry["inputs_sha256"],
                rng_file=entry["rng_file"],
                rng_sha256=entry["rng_sha256"],
                outputs=json.loads(outputs_path.read_text(encoding="utf-8")),
                note=entry["note"],
                files=dict(entry["files"]),
                main_names=list(entry["main_names"]),
            )
        )
    last = manifest["steps"][plan.steps[-1].name]["values"] if plan.steps else {}
    text: list[str] = []
    seconds: dict[int, float] = {}
    displayed: dict[int, str] = {}
    for cell in nb.cells:
        index = cell.metadata.get("mlops", {}).get("cell")
        if index is None:
            continue
        duration = cell.metadata.get("papermill", {}).get("duration")
        if duration is not None:
            seconds[int(index)] = float(duration)
        printed = "".join(
            _text(output["text"])
            for output in cell.get("outputs", [])
            if output.get("output_type") == "stream" and output.get("name") == "stdout"
        )
        text.append(printed if printed.endswith("\n") or not printed else printed + "\n")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result":
                shown = output.get("data", {}).get("text/plain")
                if shown is not None:
                    displayed[int(index)] = _text(shown)
    return CaptureResult(
        steps=steps,
        printed=metrics_from_text("".join(text)),
        final_values={name: float(value) for name, value in last.items()},
        cell_seconds=seconds,
        notebook=Path(plan.notebook).name,
        displayed=displayed,
    )


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _install(stage: Path, fixtures_dir: Path, plan: CapturePlan, result: CaptureResult) -> None:
    """Replace an earlier capture's files in ``fixtures_dir`` with this run's."""
    manifest_path = stage / capture_cells.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for spec in plan.steps:
        manifest["steps"][spec.name]["cells"] = list(spec.cells)
    manifest.update(
        notebook=result.notebook,
        params={name: _jsonable(value) for name, value in plan.params.items()},
        printed=result.printed,
        final_values=result.final_values,
    )
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    fixtures_dir.mkdir(parents=True, exist_ok=True)
    old = fixtures_dir / capture_cells.MANIFEST
    stale = {spec.name for spec in plan.steps}
    if old.is_file():
        with contextlib.suppress(ValueError, AttributeError):
            stale |= set(json.loads(old.read_text(encoding="utf-8")).get("steps", {}))
        old.unlink()
    ours = [name for name in stale if name.isidentifier()] + [capture_cells.FILES_DIR]
    for name in ours:
        if (fixtures_dir / name).is_dir():
            shutil.rmtree(fixtures_dir / name)
    for entry in sorted(stage.iterdir()):
        shutil.move(str(entry), str(fixtures_dir / entry.name))


def _jsonable(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value if value is None or isinstance(value, str | bool | int | float) else repr(value)
