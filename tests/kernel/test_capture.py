"""The capture run: the notebook in a fresh kernel under papermill, values stored per step."""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import numpy as np
import pytest
from support.notebooks import SHARED_NOTEBOOKS, require_shared_notebooks

from mlops_kernel.fingerprint import differences, fingerprint
from mlops_kernel.fixtures import load_value
from mlops_kernel.notebook import capture_engine
from mlops_kernel.notebook.capture import (
    CAPTURE_TAG,
    CaptureError,
    CapturePlan,
    KernelUnavailableError,
    StepSpec,
    instrument_notebook,
    run_capture,
    scratch_workdir,
)
from mlops_kernel.notebook.capture_cells import set_rng_states
from mlops_kernel.notebook.errors import CellExecutionError, NotebookError, SelectionError
from mlops_kernel.testing import fingerprints, load_inputs, restore_rng

Cell = str | tuple[str, str]  # code, or ("md", text)


def write_notebook(path: Path, cells: Sequence[Cell]) -> dict[int, str]:
    """Write a notebook; returns the sources of its code cells by index."""
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, tuple):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return {i: cell for i, cell in enumerate(cells) if isinstance(cell, str)}


def plan_for(
    notebook: Path,
    sources: dict[int, str],
    steps: Sequence[StepSpec],
    params: dict[str, object] | None = None,
    **options: Any,
) -> CapturePlan:
    settings: dict[str, Any] = {"seed": 0, "seed_torch": False, **options}
    return CapturePlan(notebook, tuple(steps), sources, params or {}, **settings)


def mark(number: int) -> str:
    """A line each test cell runs: appends its 1-based number to cells.log in the cwd."""
    return f'with open("cells.log", "a") as _log:\n    _log.write("{number}\\n")\n'


DEMO_CELLS: list[Cell] = [
    ("md", "# A demo"),
    "import numpy as np\n\n"
    "class Scaler:\n"
    "    def __init__(self, factor):\n"
    "        self.factor = factor\n\n"
    "    def apply(self, values):\n"
    "        return values * self.factor\n\n"
    'data = np.loadtxt("data.csv", delimiter=",")\n'
    "scaler = Scaler(factor)\n" + mark(2) + 'print("loss: 0.5")\n',
    "noise = np.random.rand(3)\nscaled = scaler.apply(data) + noise.sum()\n" + mark(3),
    ("md", "Now the model."),
    "double = lambda v: v * 2\n"
    "score = float(double(scaled).mean())\n" + mark(5) + 'print(f"accuracy: {score:.4f}")\n',
    'final = double(score)\nwith open("result.txt", "w") as fh:\n    fh.write(str(final))\n'
    + mark(6),
]
DEMO_STEPS = (
    StepSpec("load", (0, 1), ("factor",), ("Scaler", "data", "scaler")),
    StepSpec("prepare", (2,), ("scaler", "data"), ("noise", "scaled")),
    StepSpec("train", (3, 4), ("scaled",), ("double", "score")),
    StepSpec("report", (5,), ("double", "score"), ("final",)),
)


@pytest.fixture
def demo(tmp_path: Path) -> tuple[CapturePlan, Path]:
    folder = tmp_path / "project"
    sources = write_notebook(folder / "demo.ipynb", DEMO_CELLS)
    (folder / "data.csv").write_text("1,2\n3,4\n")
    plan = plan_for(folder / "demo.ipynb", sources, DEMO_STEPS, {"factor": 3}, seed=7)
    return plan, folder


# --------------------------------------------------------------------------- no kernel


def test_scratch_workdir_links_files_and_keeps_new_files_out_of_the_notebook_folder(
    tmp_path: Path,
) -> None:
    source = tmp_path / "nb"
    (source / "data" / "raw").mkdir(parents=True)
    (source / "data" / "raw" / "a.csv").write_text("1\n")
    (source / ".git").mkdir()
    (source / "notes.txt").write_text("hello")
    work = scratch_workdir(source, tmp_path / "work")

    assert (work / "notes.txt").is_symlink()
    assert (work / "data" / "raw" / "a.csv").read_text() == "1\n"
    assert not (work / "data").is_symlink()  # recreated, so files written in it stay here
    assert (work / ".git").is_symlink()  # hidden folders are linked whole
    (work / "data" / "new.csv").write_text("2\n")
    assert not (source / "data" / "new.csv").exists()


def test_scratch_workdir_inside_the_notebook_folder_does_not_link_itself(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    work = scratch_workdir(tmp_path, tmp_path / "scratch")
    assert sorted(p.name for p in work.iterdir()) == ["a.txt"]


def test_instrumented_notebook_wraps_each_step_in_capture_cells(
    demo: tuple[CapturePlan, Path], tmp_path: Path
) -> None:
    plan, _ = demo
    nb = instrument_notebook(plan, tmp_path / "fx")
    origins = [cell.metadata["mlops"] for cell in nb.cells]
    assert origins == [
        {"capture": "seed", "step": ""},
        {"capture": "parameters", "step": ""},
        {"capture": "inputs", "step": "load"},
        {"cell": 1},  # the markdown cell 0 is left out
        {"capture": "outputs", "step": "load"},
        {"capture": "inputs", "step": "prepare"},
        {"cell": 2},
        {"capture": "outputs", "step": "prepare"},
        {"capture": "inputs", "step": "train"},
        {"cell": 4},
        {"capture": "outputs", "step": "train"},
        {"capture": "inputs", "step": "report"},
        {"cell": 5},
        {"capture": "outputs", "step": "report"},
    ]
    assert nb.cells[1].metadata["tags"] == ["parameters", CAPTURE_TAG]
    assert "factor = 3" in nb.cells[1].source
    assert all(
        CAPTURE_TAG in c.metadata.get("tags", [])
        for c in nb.cells
        if "capture" in c.metadata["mlops"]
    )
    assert nb.cells[3].source == DEMO_CELLS[1]


def test_parameters_that_no_cell_can_spell_are_refused(tmp_path: Path) -> None:
    sources = write_notebook(tmp_path / "n.ipynb", ["x = 1"])
    step = StepSpec("s", (0,), (), ("x",))
    ok = plan_for(tmp_path / "n.ipynb", sources, [step], {"shape": (2, 3), "lr": float("nan")})
    nb = instrument_notebook(ok, tmp_path / "fx")
    assert "shape = (2, 3)" in nb.cells[1].source
    assert "lr = float('nan')" in nb.cells[1].source
    bad = plan_for(tmp_path / "n.ipynb", sources, [step], {"when": object()})
    with pytest.raises(CaptureError, match=r"'when'.*cannot be written as a Python literal"):
        run_capture(bad, tmp_path / "fx", tmp_path)
    twice = plan_for(tmp_path / "n.ipynb", sources, [step, step])
    with pytest.raises(SelectionError, match="unique"):
        run_capture(twice, tmp_path / "fx", tmp_path)


def test_a_missing_kernel_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture_engine, "KERNEL_NAME", "no-such-kernel-here")
    sources = write_notebook(tmp_path / "n.ipynb", ["x = 1"])
    plan = plan_for(tmp_path / "n.ipynb", sources, [StepSpec("s", (0,), (), ("x",))])
    with pytest.raises(KernelUnavailableError, match="no Jupyter kernel named 'no-such-kernel"):
        run_capture(plan, tmp_path / "fx", tmp_path)


@pytest.mark.parametrize(
    ("ename", "evalue", "says"),
    [
        ("ModuleNotFoundError", "No module named 'xgboost.core'", "pip install xgboost"),
        ("FileNotFoundError", "[Errno 2] No such file: 'C:/me/data.csv'", "only exists on your"),
        ("NameError", "name 'df' is not defined", "hidden state"),
        ("ValueError", "bad", "Restart Kernel and Run All"),
    ],
)
def test_failures_in_user_cells_name_the_original_cell_and_teach(
    ename: str, evalue: str, says: str
) -> None:
    from papermill.exceptions import PapermillExecutionError

    hooks = capture_engine.RunHooks(total=3, env={}, cwd=Path("."), log=Path("nowhere.log"))
    hooks.current = {"cell": 11}
    exc = PapermillExecutionError(14, 9, "src", ename, evalue, [])
    error = capture_engine.explain_failure(hooks, exc, 600)
    assert isinstance(error, CellExecutionError)
    assert (error.cell, error.ename) == (11, ename)
    assert str(error).startswith(f"cell 12 failed in a fresh kernel: {ename}: ")
    assert says in error.lesson


def test_failures_in_capture_cells_are_not_blamed_on_the_user() -> None:
    from papermill.exceptions import PapermillExecutionError

    hooks = capture_engine.RunHooks(total=3, env={}, cwd=Path("."), log=Path("nowhere.log"))
    hooks.current = {"capture": "seed", "step": ""}
    missing = PapermillExecutionError(
        0, 1, "", "ModuleNotFoundError", "No module named 'mlops_kernel'", []
    )
    assert isinstance(capture_engine.explain_failure(hooks, missing, 1), KernelUnavailableError)
    hooks.current = {"capture": "outputs", "step": "train"}
    other = PapermillExecutionError(0, 1, "", "RuntimeError", "boom\nmore", [])
    error = capture_engine.explain_failure(hooks, other, 1)
    assert type(error) is NotebookError
    assert (
        str(error)
        == "recording the outputs of step 'train' failed in the fresh kernel: RuntimeError: boom"
    )
    assert capture_engine.explain_failure(hooks, KeyError("x"), 1) is None


# --------------------------------------------------------------------------- real kernel


@pytest.mark.slow
def test_capture_stores_each_step_and_reports_progress_while_running(
    demo: tuple[CapturePlan, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, folder = demo
    notebook_bytes = plan.notebook.read_bytes()
    work = scratch_workdir(folder, tmp_path / "work")
    fixtures = tmp_path / "fixtures"
    seen: list[tuple[int, int, str, list[str]]] = []

    def progress(done: int, total: int, message: str) -> None:
        log = work / "cells.log"
        ran = log.read_text().split() if log.exists() else []
        seen.append((done, total, message, ran))

    result = run_capture(plan, fixtures, work, progress)

    # progress came cell by cell, while later cells had not run yet
    assert seen == [
        (0, 4, "starting a fresh kernel", []),
        (1, 4, "cell 2", ["2"]),
        (2, 4, "cell 3", ["2", "3"]),
        (3, 4, "cell 5", ["2", "3", "5"]),
        (4, 4, "cell 6", ["2", "3", "5", "6"]),
    ]
    # the user's folder is untouched; the notebook's writes landed in the scratch folder
    assert plan.notebook.read_bytes() == notebook_bytes
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", "demo.ipynb"]
    assert (work / "result.txt").exists()

    steps = {step.name: step for step in result.steps}
    assert list(steps) == ["load", "prepare", "train", "report"]
    prepare = steps["prepare"]
    assert prepare.inputs_file == "prepare/inputs.pkl" and prepare.note == ""
    assert (
        prepare.inputs_sha256
        == hashlib.sha256((fixtures / prepare.inputs_file).read_bytes()).hexdigest()
    )
    assert prepare.main_names == ["Scaler"]  # the extracted module must define it
    # files the notebook wrote are kept for the steps after (cells.log, by the cells)
    assert prepare.files == {"cells.log": hashlib.sha256(b"2\n").hexdigest()}
    assert steps["train"].files == {"cells.log": hashlib.sha256(b"2\n3\n").hexdigest()}
    assert steps["load"].files == {}
    report = steps["report"]
    assert report.inputs_file is None and report.inputs_sha256 is None
    assert report.note == "inputs not stored: cannot be pickled: double"
    assert report.rng_file == "report/rng.pkl" and report.files == {}

    # a class defined in the notebook loads back from the module that defines it now
    module = ModuleType("extracted_demo")

    class Scaler:
        def __init__(self, factor: int) -> None:
            self.factor = factor

    module.Scaler = Scaler  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "extracted_demo", module)
    inputs = load_inputs(fixtures, "prepare", prepare.inputs_sha256, module="extracted_demo")
    assert isinstance(inputs["scaler"], Scaler) and inputs["scaler"].factor == 3
    assert inputs["data"].tolist() == [[1.0, 2.0], [3.0, 4.0]]

    # unseeded np.random.rand: the same draw once the step's RNG state is restored...
    noise = {"noise": prepare.outputs["noise"]}
    restore_rng(fixtures, "prepare", prepare.rng_sha256)
    assert differences(noise, fingerprints({"noise": np.random.rand(3)})) == []
    # ... a different one otherwise; and the run was seeded with the plan's seed first
    assert differences(noise, fingerprints({"noise": np.random.rand(3)})) != []
    np.random.seed(7)
    assert prepare.outputs["noise"]["values"] == np.random.rand(3).tolist()

    score = steps["train"].outputs["score"]["value"]
    assert result.printed == {"loss": [0.5], "accuracy": [round(score, 4)]}
    assert result.final_values == {"final": 2 * score}
    assert set(result.cell_seconds) == {1, 2, 4, 5}
    assert result.notebook == "demo.ipynb"

    manifest = json.loads((fixtures / "manifest.json").read_text())
    assert list(manifest["steps"]) == ["load", "prepare", "train", "report"]
    assert manifest["steps"]["train"]["cells"] == [3, 4]
    assert manifest["steps"]["report"]["inputs"] == ["double", "score"]
    assert manifest["seed"] == 7 and manifest["params"] == {"factor": 3}
    assert manifest["notebook"] == "demo.ipynb"
    files = sorted(str(p.relative_to(fixtures)) for p in fixtures.rglob("*") if p.is_file())
    train_files = steps["train"].files.values()
    assert files == [
        "load/inputs.pkl", "load/outputs.json", "load/rng.pkl",
        "manifest.json",
        "prepare/inputs.pkl", "prepare/outputs.json", "prepare/rng.pkl",
        "report/outputs.json", "report/rng.pkl",
        "train/inputs.pkl", "train/outputs.json", "train/rng.pkl",
        *sorted(f"written-files/{sha}" for sha in [*prepare.files.values(), *train_files]),
    ]  # fmt: skip


@pytest.mark.slow
def test_a_failing_cell_names_its_index_in_the_original_notebook(tmp_path: Path) -> None:
    cells: list[Cell] = [("md", "# t"), "x = 1", ("md", "more"), "y = x + undefined_name"]
    sources = write_notebook(tmp_path / "nb" / "f.ipynb", cells)
    steps = [StepSpec("one", (0, 1), (), ("x",)), StepSpec("two", (2, 3), ("x",), ("y",))]
    fixtures = tmp_path / "fixtures"
    (fixtures / "one").mkdir(parents=True)
    (fixtures / "manifest.json").write_text('{"steps": {"one": {}}}')  # an earlier capture
    done: list[str] = []
    with pytest.raises(CellExecutionError) as caught:
        run_capture(
            plan_for(tmp_path / "nb" / "f.ipynb", sources, steps),
            fixtures,
            scratch_workdir(tmp_path / "nb", tmp_path / "work"),
            lambda d, t, message: done.append(message),
        )
    error = caught.value
    assert (error.cell, error.ename) == (3, "NameError")
    assert (
        str(error)
        == "cell 4 failed in a fresh kernel: NameError: name 'undefined_name' is not defined"
    )
    assert "hidden state" in error.lesson
    assert done == ["starting a fresh kernel", "cell 2"]
    # the earlier capture's fixtures are kept when a run fails
    assert (fixtures / "manifest.json").read_text() == '{"steps": {"one": {}}}'


@pytest.mark.slow
def test_a_cell_past_the_time_limit_fails_with_a_lesson(tmp_path: Path) -> None:
    sources = write_notebook(tmp_path / "t.ipynb", ["import time", "time.sleep(60)"])
    steps = [StepSpec("a", (0,), (), ()), StepSpec("b", (1,), (), ())]
    plan = plan_for(tmp_path / "t.ipynb", sources, steps, timeout_s=2)
    done: list[str] = []
    with pytest.raises(CellExecutionError) as caught:
        run_capture(
            plan,
            tmp_path / "fixtures",
            scratch_workdir(tmp_path, tmp_path / "w"),
            lambda d, t, message: done.append(message),
        )
    assert (caught.value.cell, caught.value.ename) == (1, "TimeoutError")
    assert done == ["starting a fresh kernel", "cell 1"]  # cell 2 never finished
    assert "longer than 2 s" in str(caught.value)


@pytest.mark.slow
def test_a_new_capture_replaces_the_previous_captures_files_only(tmp_path: Path) -> None:
    sources = write_notebook(tmp_path / "n.ipynb", ["x = 1", "y = x + 1"])
    fixtures = tmp_path / "fixtures"
    work = scratch_workdir(tmp_path, tmp_path / "w")
    first = [StepSpec("a", (0,), (), ("x",)), StepSpec("b", (1,), ("x",), ("y",))]
    run_capture(plan_for(tmp_path / "n.ipynb", sources, first), fixtures, work)
    (fixtures / "extraction.json").write_text("{}")  # someone else's file
    second = [StepSpec("both", (0, 1), (), ("x", "y"))]
    result = run_capture(plan_for(tmp_path / "n.ipynb", sources, second), fixtures, work)
    assert sorted(p.name for p in fixtures.iterdir()) == [
        "both",
        "extraction.json",
        "manifest.json",
    ]
    assert result.steps[0].outputs["y"] == {"type": "int", "value": 2}
    assert result.final_values == {"x": 1.0, "y": 2.0}


def _names_of(source: str, known: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inputs, outputs) of a cell, simply: names read that earlier cells bound; names bound."""
    bound: list[str] = []
    read: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).append(node.id)
        elif isinstance(node, ast.alias):
            bound.append((node.asname or node.name).split(".")[0])
    inputs = tuple(sorted({name for name in read if name in known}))
    return inputs, tuple(dict.fromkeys(bound))


@pytest.mark.slow
def test_capture_of_a_real_notebook_replays_from_its_stored_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_shared_notebooks()
    path = SHARED_NOTEBOOKS / "sklearn-plot_cost_complexity_pruning.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    steps: list[StepSpec] = []
    sources: dict[int, str] = {}
    known: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            inputs, outputs = _names_of(cell.source, known)
            known |= set(outputs)
            steps.append(StepSpec(f"cell_{index}", (index,), inputs, outputs))
            sources[index] = cell.source
    plan = plan_for(path, sources, steps)
    fixtures = tmp_path / "fixtures"
    messages: list[str] = []
    result = run_capture(
        plan,
        fixtures,
        scratch_workdir(path.parent, tmp_path / "w"),
        lambda d, t, m: messages.append(m),
    )
    assert messages == ["starting a fresh kernel", *(f"cell {i + 1}" for i in sources)]
    assert "with_ccp_alpha" in result.printed
    stored = [s for s in result.steps if s.inputs_file is not None]
    replayed = [s for s in result.steps if s.inputs_file is None]
    assert [s.name for s in stored] == ["cell_1", "cell_3", "cell_7"]
    assert all("cannot be pickled: plt" in s.note for s in replayed)  # a module is no input
    # each stored step, run here from its stored inputs and RNG state, computes the same
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for spec, step in zip(steps, result.steps, strict=True):
        if step.inputs_file is None:
            continue
        namespace = load_value(fixtures / step.inputs_file, step.inputs_sha256)
        set_rng_states(load_value(fixtures / str(step.rng_file), step.rng_sha256))
        exec(sources[spec.cells[0]], namespace)
        actual = {name: fingerprint(namespace[name]) for name in spec.outputs}
        assert differences(step.outputs, json.loads(json.dumps(actual))) == [], step.name
    assert result.steps[1].outputs["ccp_alphas"]["type"] == "ndarray"
