"""Generated characterisation tests: ruff-clean, and they pass, then fail when a step changes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from mlops_kernel.notebook.capture import (
    CapturePlan,
    CaptureResult,
    StepCapture,
    StepSpec,
    run_capture,
    scratch_workdir,
)
from mlops_kernel.notebook.testgen import write_tests

RULES = "E,F,W,I,B,UP,SIM,RUF"  # this project's selection


def ruff() -> Path:
    found = Path(sys.executable).with_name("ruff")
    if not found.exists():
        pytest.skip(f"ruff is not installed beside {sys.executable} (pip install -e .[test])")
    return found


def ruff_problems(project: Path, test_file: Path, *, also_100: bool = True) -> list[str]:
    """What ruff says about the file: with its defaults (88 columns), and unless told
    otherwise with this project's rules at 100 columns (the same layout must hold: only
    names too long for one line at 88 columns make ruff lay a line out differently)."""
    commands = [
        ["check", "--isolated", "--no-cache"],
        ["format", "--isolated", "--no-cache", "--check", "--diff"],
    ]
    if also_100:
        commands += [
            ["check", "--isolated", "--no-cache", "--select", RULES, "--line-length", "100"],
            ["format", "--isolated", "--no-cache", "--check", "--diff", "--line-length", "100"],
        ]
    problems = []
    for args in commands:
        done = subprocess.run(
            [str(ruff()), *args, str(test_file)], cwd=project, capture_output=True, text=True
        )
        if done.returncode != 0:
            problems.append(f"ruff {' '.join(args)}:\n{done.stdout}{done.stderr}")
    return problems


def fake_capture(steps: list[StepSpec], replayed: set[str], note: str = "") -> CaptureResult:
    captures = [
        StepCapture(
            name=step.name,
            inputs_file=None if step.name in replayed else f"{step.name}/inputs.pkl",
            inputs_sha256=None if step.name in replayed else f"{i:064x}",
            rng_file=f"{step.name}/rng.pkl",
            rng_sha256=f"{i + 100:064x}",
            outputs={name: {"type": "int", "value": 1} for name in step.outputs},
            note=note if step.name in replayed else "",
        )
        for i, step in enumerate(steps)
    ]
    return CaptureResult(captures, {}, {}, {}, notebook="analysis.ipynb")


def generate(
    tmp_path: Path, module: str, steps: list[StepSpec], replayed: set[str], note: str = ""
) -> tuple[Path, str]:
    package = tmp_path.joinpath(*module.split(".")[:-1])
    package.mkdir(parents=True, exist_ok=True)  # so that isort sees a first-party package
    test_file = tmp_path / "tests" / f"test_{module.rpartition('.')[2]}.py"
    source = write_tests(
        test_file,
        module=module,
        steps=steps,
        capture=fake_capture(steps, replayed, note),
        fixtures_rel=f"fixtures/{module.rpartition('.')[2]}",
        seed=0,
        seed_torch=False,
    )
    assert test_file.read_text() == source
    compile(source, str(test_file), "exec")
    return test_file, source


# --------------------------------------------------------------------------- generated source


def test_generated_tests_read_well_and_are_ruff_clean(tmp_path: Path) -> None:
    steps = [
        StepSpec("load", (1,), (), ("df",)),
        StepSpec("train", (3, 4, 5), ("df", "lr"), ("model", "score")),
    ]
    test_file, source = generate(tmp_path, "demo.pipeline", steps, replayed=set())
    assert ruff_problems(tmp_path, test_file) == []
    assert source.startswith(
        '"""Characterisation tests of demo.pipeline, generated from analysis.ipynb.\n'
    )
    assert "from demo import pipeline\n" in source
    assert "mlops extract" in source
    assert "def replayed" not in source and "import replay" not in source
    expected = '''
def test_train(tmp_path, monkeypatch):
    """train: cells 4 to 6 of the notebook."""
    inputs_sha256 = "0000000000000000000000000000000000000000000000000000000000000001"
    rng_sha256 = "0000000000000000000000000000000000000000000000000000000000000065"
    monkeypatch.chdir(tmp_path)
    restore_rng(FIXTURES, "train", rng_sha256)
    inputs = load_inputs(FIXTURES, "train", inputs_sha256, module=MODULE)
    result = pipeline.train(**inputs)
    actual = as_outputs(result, ["model", "score"])
    assert_outputs(expected_outputs(FIXTURES, "train"), actual)
'''
    assert expected in source
    assert "    result = pipeline.load()\n" in source  # no inputs to load


def test_long_names_and_odd_notes_stay_ruff_clean(tmp_path: Path) -> None:
    long = "a_step_with_a_really_remarkably_long_name_for_a_notebook_step"
    many = tuple(f"input_number_{i}_with_a_long_name" for i in range(8))
    steps = [
        StepSpec(long, (0, 2, 7), many, ("out_a", "out_b")),
        StepSpec("fit", (8, 9), ("out_a", "callback"), ()),
        StepSpec("score", (10,), ("out_a",), tuple(f"metric_{i}" for i in range(12))),
    ]
    note = 'inputs not stored: cannot be pickled: callback ("quoted" \\ back\\slash """)'
    module = "a_rather_long_package_name.subpackage.replay"  # clashes with a helper: aliased
    test_file, source = generate(tmp_path, module, steps, replayed={"fit"}, note=note)
    assert ruff_problems(tmp_path, test_file, also_100=False) == []
    assert "from a_rather_long_package_name.subpackage import replay as replay_module" in source
    assert "    return replay(\n            replay_module,\n" in source
    assert "def replayed(tmp_path_factory):" in source
    assert 'assert_fingerprints(expected_outputs(FIXTURES, "fit"), replayed["fit"])' in source
    assert "cells 1, 3, 8 of" in source
    assert max(len(line) for line in source.splitlines()) <= 88


def test_inputs_needing_a_name_the_module_lacks_are_replayed(tmp_path: Path) -> None:
    steps = [StepSpec("plot", (0,), (), ("fig",)), StepSpec("fit", (1,), ("fig",), ("m",))]
    capture = fake_capture(steps, set())
    capture.steps[1].main_names = ["plot_model", "Scaler"]
    source = write_tests(
        tmp_path / "test_m.py",
        module="pkg.m",
        steps=steps,
        capture=capture,
        fixtures_rel="fixtures/m",
        seed=0,
        seed_torch=False,
        module_names={"Scaler", "plot", "fit", "run", "main", "Params"},
    )
    assert "def test_plot(tmp_path, monkeypatch):" in source
    assert "def test_fit(replayed):" in source
    assert "inputs need plot_model, defined in the notebook but not at" in " ".join(source.split())


def test_a_step_without_a_capture_is_refused(tmp_path: Path) -> None:
    steps = [StepSpec("a", (0,), (), ("x",))]
    with pytest.raises(ValueError, match=r"no capture for steps \['b'\]"):
        write_tests(
            tmp_path / "t.py",
            module="m",
            steps=[*steps, StepSpec("b", (1,), (), ())],
            capture=fake_capture(steps, set()),
            fixtures_rel="fixtures/m",
            seed=0,
            seed_torch=False,
        )


# --------------------------------------------------------------------------- end to end

NOTEBOOK_CELLS = [
    "import numpy as np\n\n\n"
    "class Scaler:\n"
    "    def __init__(self, factor):\n"
    "        self.factor = factor\n\n"
    "    def apply(self, values):\n"
    "        return values * self.factor\n\n\n"
    "scaler = Scaler(factor)\n"
    'data = np.arange(6.0).reshape(3, 2) + float(open("offset.txt").read())\n'
    'with open("bonus.txt", "w") as fh:\n'
    '    fh.write("0.5")\n',
    "noise = np.random.rand(3, 2)\n"
    'with open("bonus.txt") as fh:\n'
    "    scaled = scaler.apply(data) + noise + float(fh.read())\n",
    "double = lambda v: v * 2\n"
    "score = float(double(scaled).mean())\n"
    'print(f"score: {score:.3f}")\n',
    "final = double(score) + 1\n",
]
STEPS = [
    StepSpec("load", (1,), ("factor",), ("scaler", "data")),
    StepSpec("prepare", (2,), ("scaler", "data"), ("noise", "scaled")),
    StepSpec("train", (3,), ("scaled",), ("double", "score")),
    StepSpec("report", (4,), ("double", "score"), ("final",)),
]
MODULE = '''
"""A hand-written stand-in for a generated module."""

from dataclasses import dataclass

import numpy as np

from mlops_kernel.pipeline import seed_everything


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def apply(self, values):
        return values * self.factor


@dataclass
class Params:
    factor: int = 3


def load(factor):
    scaler = Scaler(factor)
    data = np.arange(6.0).reshape(3, 2) + float(open("offset.txt").read())
    with open("bonus.txt", "w") as fh:
        fh.write("0.5")
    return scaler, data


def prepare(scaler, data):
    noise = np.random.rand(3, 2)
    with open("bonus.txt") as fh:
        scaled = scaler.apply(data) + noise + float(fh.read())
    return noise, scaled


def train(scaled):
    double = lambda v: v * 2  # noqa: E731
    score = float(double(scaled).mean())
    print(f"score: {score:.3f}")
    return double, score


def report(double, score):
    final = double(score) + 1
    return final


def run(params):
    seed_everything(11)
    scaler, data = load(params.factor)
    noise, scaled = prepare(scaler, data)
    double, score = train(scaled)
    return {"final": report(double, score)}


def main():
    return run(Params())
'''


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_generated_tests_pass_then_catch_a_changed_step(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "demo").mkdir(parents=True)
    (project / "demo" / "__init__.py").write_text("")
    module_file = project / "demo" / "pipeline.py"
    module_file.write_text(MODULE.lstrip())
    (project / "pytest.ini").write_text("[pytest]\n")  # the project's own pytest root
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Demo")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    nbformat.write(nb, str(project / "demo.ipynb"))
    (project / "offset.txt").write_text("100")  # data the notebook reads beside itself
    sources = {i + 1: source for i, source in enumerate(NOTEBOOK_CELLS)}
    plan = CapturePlan(project / "demo.ipynb", tuple(STEPS), sources, {"factor": 3}, 11, False)
    fixtures = project / "tests" / "fixtures" / "pipeline"
    capture = run_capture(plan, fixtures, scratch_workdir(project, tmp_path / "work"))
    assert [step.inputs_file is None for step in capture.steps] == [False, False, False, True]
    test_file = project / "tests" / "test_pipeline.py"
    write_tests(
        test_file,
        module="demo.pipeline",
        steps=STEPS,
        capture=capture,
        fixtures_rel="fixtures/pipeline",
        seed=11,
        seed_torch=False,
        notebook_dir_rel="..",
    )
    assert ruff_problems(project, test_file) == []
    generated = test_file.read_text()
    assert "    monkeypatch.chdir(scratch_workdir(NOTEBOOK_DIR, tmp_path))\n" in generated
    assert '    restore_files(FIXTURES, "prepare", tmp_path)\n' in generated

    passing = run_pytest(project)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "5 passed" in passing.stdout

    module_file.write_text(MODULE.lstrip().replace("data) + noise", "data) - noise"))
    failing = run_pytest(project)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "2 failed, 3 passed" in failing.stdout
    assert "FAILED tests/test_pipeline.py::test_prepare" in failing.stdout
    assert "FAILED tests/test_pipeline.py::test_report" in failing.stdout  # replayed
    assert re.search(
        r"outputs differ from the notebook's:\s+E\s+scaled: sha256 differs", failing.stdout
    )
    assert re.search(r"E\s+final: [\d.]+ -> [\d.]+", failing.stdout)
    assert "noise:" not in failing.stdout  # what did not change is not reported
    assert not (project / "bonus.txt").exists()  # the tests wrote in their own folders


def test_end_to_end_fixture_module_matches_the_notebook() -> None:
    """The stand-in module above does what the notebook cells do (keeps the e2e test honest)."""
    body = textwrap.dedent("".join(NOTEBOOK_CELLS))
    for line in body.splitlines():
        if line.strip() and not line.startswith(("import", "class", "    ")):
            assert line.strip() in MODULE, line
