"""The helpers generated tests use (mlops_kernel.testing) and the kernel-side capture calls."""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from mlops_kernel.fingerprint import fingerprint
from mlops_kernel.fixtures import FixtureError, save_value
from mlops_kernel.notebook import capture_cells
from mlops_kernel.testing import (
    as_outputs,
    assert_fingerprints,
    assert_outputs,
    expected_outputs,
    fingerprints,
    load_inputs,
    replay,
    restore_files,
    restore_rng,
)


def manifest(fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures / "manifest.json").read_text())
    return data


def np_state() -> list[Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return [name, keys.tolist(), pos, has_gauss, cached]


# --------------------------------------------------------------------------- capture_cells


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The capture calls look at files in the working directory: make it an empty one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(capture_cells._STATE, "baseline", None)


def test_record_inputs_stores_picklable_inputs_and_explains_the_rest(tmp_path: Path) -> None:
    capture_cells.begin(str(tmp_path), 3, False)
    namespace = {"a": 1, "b": [1.5, "x"], "f": lambda v: v, "blob": list(range(2000))}
    capture_cells.record_inputs("ok", ["a", "b"], namespace, str(tmp_path), 10_000)
    capture_cells.record_inputs("lam", ["a", "f"], namespace, str(tmp_path), 10_000)
    capture_cells.record_inputs("big", ["blob"], namespace, str(tmp_path), 1_000)
    capture_cells.record_inputs("gone", ["a", "nope"], namespace, str(tmp_path), 10_000)
    huge = {"x": np.zeros(10**5)}  # 0.8 MB: not even pickled
    capture_cells.record_inputs("huge", ["x"], huge, str(tmp_path), 10_000)
    steps = manifest(tmp_path)["steps"]
    assert steps["ok"]["inputs_file"] == "ok/inputs.pkl" and steps["ok"]["note"] == ""
    assert load_inputs(tmp_path, "ok", steps["ok"]["inputs_sha256"], module="x") == {
        "a": 1,
        "b": [1.5, "x"],
    }
    assert steps["lam"]["inputs_file"] is None
    assert steps["lam"]["note"] == "inputs not stored: cannot be pickled: f"
    assert re.fullmatch(
        r"inputs not stored: 0\.00\d+ MB pickled, over the 0\.001 MB cap", steps["big"]["note"]
    )
    assert steps["gone"]["note"] == "inputs not defined when the step started: nope"
    assert (
        steps["huge"]["note"] == "inputs not stored: about 0.8 MB in memory, over the 0.01 MB cap"
    )
    assert all(step["rng_file"] == f"{name}/rng.pkl" for name, step in steps.items())
    assert manifest(tmp_path)["seed"] == 3


def test_main_names_lists_what_the_notebook_defined(monkeypatch: pytest.MonkeyPatch) -> None:
    main = sys.modules["__main__"]

    class First:
        pass

    class Second:
        pass

    def helper() -> None:
        pass

    for thing in (First, Second, helper):
        thing.__module__ = "__main__"
        thing.__qualname__ = thing.__name__
        monkeypatch.setattr(main, thing.__name__, thing, raising=False)
    values = {"a": First(), "b": [Second(), Second()], "c": helper, "d": np.arange(2)}
    for protocol in (2, 5):  # GLOBAL, then STACK_GLOBAL with memoised strings
        blob = pickle.dumps(values, protocol=protocol)
        assert capture_cells.main_names(blob) == ["First", "Second", "helper"]
    assert capture_cells.main_names(pickle.dumps({"x": np.arange(2)})) == []


def test_files_the_notebook_wrote_are_stored_once_and_restored(tmp_path: Path) -> None:
    work, fixtures = tmp_path / "work", tmp_path / "fixtures"
    (work / "data").mkdir(parents=True)
    (work / "data" / "given.csv").write_text("1,2\n")  # there before the run
    (work / "linked.txt").symlink_to(work / "data" / "given.csv")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(capture_cells.regular_files(work)))
    os.chdir(work)
    capture_cells.begin(str(fixtures), 0, False, str(baseline))
    (work / "data" / "model.txt").write_text("weights")  # written by a cell
    capture_cells.record_inputs("one", [], {}, str(fixtures), 10**6)
    (work / "data" / "given.csv").write_text("1,2\n3,4\n")  # changed by a cell
    capture_cells.record_inputs("two", [], {}, str(fixtures), 10**6)
    capture_cells.record_inputs("tiny", [], {}, str(fixtures), 10)  # files over the cap
    steps = manifest(fixtures)["steps"]
    assert list(steps["one"]["files"]) == ["data/model.txt"]
    assert list(steps["two"]["files"]) == ["data/given.csv", "data/model.txt"]
    assert steps["one"]["files"]["data/model.txt"] == steps["two"]["files"]["data/model.txt"]
    assert len(list((fixtures / "written-files").iterdir())) == 2  # each content once
    assert steps["tiny"]["inputs_file"] is None and "with the 2 files" in steps["tiny"]["note"]

    into = tmp_path / "test"
    (into / "data").mkdir(parents=True)
    (into / "data" / "given.csv").symlink_to(work / "data" / "given.csv")
    restore_files(fixtures, "two", into)
    assert (into / "data" / "model.txt").read_text() == "weights"
    assert not (into / "data" / "given.csv").is_symlink()  # replaced, not written through
    assert (work / "data" / "given.csv").read_text() == "1,2\n3,4\n"
    (fixtures / "written-files" / steps["one"]["files"]["data/model.txt"]).write_text("x")
    with pytest.raises(FixtureError, match="was changed since it was captured"):
        restore_files(fixtures, "one", into)


def test_capture_calls_never_draw_random_numbers(tmp_path: Path) -> None:
    capture_cells.begin(str(tmp_path), 0, False)
    before = (random.getstate(), np_state())
    namespace = {"x": np.arange(5.0), "score": np.float64(0.5), "rng": np.random.default_rng(1)}
    capture_cells.record_inputs("s", ["x", "rng"], namespace, str(tmp_path), 10**6)
    capture_cells.record_outputs("s", ["x", "score"], namespace, str(tmp_path))
    assert (random.getstate(), np_state()) == before


def test_record_outputs_fingerprints_and_keeps_finite_numbers(tmp_path: Path) -> None:
    capture_cells.begin(str(tmp_path), 0, False)
    namespace = {"acc": np.float32(0.75), "loss": float("nan"), "name": "m", "n": 3}
    capture_cells.record_inputs("s", [], namespace, str(tmp_path), 10**6)
    capture_cells.record_outputs(
        "s", ["acc", "loss", "name", "n", "missing"], namespace, str(tmp_path)
    )
    entry = manifest(tmp_path)["steps"]["s"]
    assert entry["values"] == {"acc": 0.75, "n": 3.0}
    assert entry["outputs"] == ["acc", "loss", "name", "n", "missing"]
    assert entry["note"] == "output missing not defined when the step ended"
    prints = expected_outputs(tmp_path, "s")
    assert sorted(prints) == ["acc", "loss", "n", "name"]
    assert prints["name"] == fingerprint("m")


def test_rng_states_round_trip(tmp_path: Path) -> None:
    random.seed(1)
    np.random.seed(1)
    sha = save_value(tmp_path / "s" / "rng.pkl", capture_cells.rng_states())
    first = (random.random(), np.random.rand(2).tolist())
    restore_rng(tmp_path, "s", sha)
    assert (random.random(), np.random.rand(2).tolist()) == first
    restore_rng(tmp_path, "s", None)  # nothing stored: nothing to do
    assert (random.random(), np.random.rand(2).tolist()) != first


def test_fixture_problems_are_fixture_errors(tmp_path: Path) -> None:
    sha = save_value(tmp_path / "s" / "inputs.pkl", [1, 2])
    with pytest.raises(FixtureError, match="is not a dict"):
        load_inputs(tmp_path, "s", sha, module="m")
    with pytest.raises(FixtureError, match="was changed since it was captured"):
        load_inputs(tmp_path, "s", "0" * 64, module="m")
    with pytest.raises(FixtureError, match="is missing"):
        expected_outputs(tmp_path, "s")


# --------------------------------------------------------------------------- outputs


def test_as_outputs_follows_the_return_convention() -> None:
    assert as_outputs(None, []) == {}
    assert as_outputs((1, 2), ["pair"]) == {"pair": (1, 2)}
    assert as_outputs((1, 2), ["a", "b"]) == {"a": 1, "b": 2}
    with pytest.raises(AssertionError, match=r"should return 2 values \(a, b\), but returned 3"):
        as_outputs((1, 2, 3), ["a", "b"])
    with pytest.raises(AssertionError, match="but returned a list"):
        as_outputs([1, 2], ["a", "b"])


def test_assert_outputs_names_what_changed() -> None:
    expected = fingerprints({"score": 0.5, "weights": np.arange(3.0)})
    assert_outputs(expected, {"score": 0.5, "weights": np.arange(3.0), "extra": 1})
    with pytest.raises(AssertionError) as caught:
        assert_outputs(expected, {"score": 0.25, "weights": np.arange(3.0)})
    assert str(caught.value) == "outputs differ from the notebook's:\n  score: 0.5 -> 0.25"
    with pytest.raises(AssertionError, match="weights: missing"):
        assert_outputs(expected, {"score": 0.5})


def test_names_defined_inside_a_step_match_the_notebooks_top_level_ones() -> None:
    def step() -> Any:
        class Model:
            pass

        return (lambda v: v), Model()

    function, model = step()
    expected = fingerprints({"f": eval("lambda v: v"), "m": model})
    expected["m"]["class"] = "Model"  # as the notebook's top-level class is called
    assert_outputs(expected, {"f": function, "m": model})
    with pytest.raises(AssertionError, match="f: "):
        assert_fingerprints(expected, fingerprints({"f": len, "m": model}))


# --------------------------------------------------------------------------- replay


PIPELINE = """
from dataclasses import dataclass

import numpy as np


@dataclass
class Params:
    n: int = 3


def draw(n):
    return np.random.rand(n)


def total(values, n):
    values *= 2  # changes its input in place, after draw's output was fingerprinted
    return float(values.sum()) + n, len(values)
"""


def pipeline_module() -> ModuleType:
    module = ModuleType("replayed_pipeline")
    code = compile(textwrap.dedent(PIPELINE), "replayed_pipeline", "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module


def test_replay_runs_the_steps_in_order_from_the_seed() -> None:
    module = pipeline_module()
    steps = [("draw", ["n"], ["values"]), ("total", ["values", "n"], ["sum", "count"])]
    prints = replay(module, steps, module.Params(), seed=5, seed_torch=False)
    np.random.seed(5)
    values = np.random.rand(3)
    assert prints["draw"] == fingerprints({"values": values})
    assert prints["total"] == fingerprints({"sum": float(values.sum() * 2) + 3, "count": 3})


def test_replay_says_which_input_no_step_made() -> None:
    module = pipeline_module()
    with pytest.raises(AssertionError, match="step total needs values, which no earlier step"):
        replay(
            module,
            [("total", ["values", "n"], ["s", "c"])],
            module.Params(),
            seed=0,
            seed_torch=False,
        )
    with pytest.raises(TypeError, match="dataclass instance"):
        replay(module, [], {"n": 3}, seed=0, seed_torch=False)
