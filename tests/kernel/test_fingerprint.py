"""Fingerprints: deterministic across processes, sensitive to changes, readable differences."""

from __future__ import annotations

import collections
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from support.metrics import NUMBERS_AS_METRICS

import mlops_kernel
from mlops_kernel.fingerprint import differences, fingerprint, metric_value

PACKAGE_ROOT = Path(mlops_kernel.__file__).resolve().parent.parent

# Built the same way here and in the subprocess: strings in a set iterate in an
# order that depends on the process's hash seed.
SAMPLE_CODE = textwrap.dedent(
    """
    import numpy as np

    def sample():
        words = {f"word{i}" for i in range(30)}
        return {
            "words": words,
            "frozen": frozenset(words),
            "nested": {"b": [1, 2.5, None, True], "a": ("x", b"raw", 2**80)},
            "floats": [0.1, -0.0, float("nan"), float("inf")],
            "array": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
            "big": np.linspace(0, 1, 1000),
            "objects": np.array(["a", None, 3], dtype=object),
            "scalar": np.float64(0.25),
            "text": "long " * 100,
            "many": list(range(200)),
        }
    """
)


def sample() -> Any:
    namespace: dict[str, Any] = {}
    exec(SAMPLE_CODE, namespace)
    return namespace["sample"]()


def as_json(value: object) -> str:
    return json.dumps(fingerprint(value), sort_keys=True, allow_nan=False)


def diff(expected: object, actual: object, name: str = "x") -> list[str]:
    return differences({name: fingerprint(expected)}, {name: fingerprint(actual)})


@pytest.mark.slow
def test_equal_values_fingerprint_equal_in_another_process() -> None:
    script = SAMPLE_CODE + textwrap.dedent(
        """
        import json
        from mlops_kernel.fingerprint import fingerprint
        value = sample()
        print(json.dumps({"fp": fingerprint(value), "order": list(value["words"])}))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(PACKAGE_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    child = json.loads(done.stdout)
    here = sample()
    assert child["fp"] == json.loads(as_json(here))
    # what made this worth testing: the same set iterates differently over there
    assert child["order"] != list(here["words"]) or sys.flags.hash_randomization == 0


def test_sets_and_dicts_do_not_depend_on_insertion_order() -> None:
    a, b = {1, 9}, {9, 1}  # 1 and 9 collide in a small set table: insertion decides
    assert list(a) != list(b)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint({"x": 1, "y": 2}) == fingerprint({"y": 2, "x": 1})
    assert fingerprint({2: "a", "k": 1}) == fingerprint({"k": 1, 2: "a"})


def test_fingerprint_is_json_and_exact_for_floats() -> None:
    text = as_json(sample())  # allow_nan=False: strict JSON
    assert json.loads(text) == fingerprint(sample())  # no tuples: reads back equal
    assert "0x1.999999999999ap-4" in text  # 0.1, exactly
    assert fingerprint(float("nan")) == fingerprint(float("nan"))
    assert fingerprint(0.0) != fingerprint(-0.0)
    assert fingerprint(0.1 + 0.2) != fingerprint(0.3)
    assert fingerprint(1) != fingerprint(1.0) != fingerprint(True)


def test_long_strings_and_big_containers_are_summarised() -> None:
    long = fingerprint("x" * 1000)
    assert long["length"] == 1000 and len(long["sha256"]) == 64 and "value" not in long
    many = fingerprint(list(range(100)), max_items=10)
    assert many["length"] == 100 and "items" not in many
    assert many != fingerprint([*range(99), 100], max_items=10)
    assert len(fingerprint(list(range(5)), max_items=10)["items"]) == 5


def test_depth_limits_nesting() -> None:
    deep: list[Any] = [[[["bottom"]]]]
    assert "bottom" not in json.dumps(fingerprint(deep, depth=2))
    assert "bottom" in json.dumps(fingerprint(deep, depth=5))
    loop: list[Any] = []
    loop.append(loop)
    assert fingerprint(loop)["length"] == 1  # a cycle ends at the depth limit


def test_a_changed_element_is_named() -> None:
    before, after = sample(), sample()
    after["nested"]["b"][1] = 3.5
    after["array"][1, 2] = 99
    lines = diff(before, after, "data")
    assert "data.nested.b[1]: 2.5 -> 3.5" in lines
    [array_line] = [line for line in lines if line.startswith("data.array:")]
    assert "sha256 differs" in array_line and "shape (3, 4) -> (3, 4)" in array_line
    assert "first at flat index 6" in array_line
    assert len(lines) == 2
    assert differences({"data": fingerprint(before)}, {"data": fingerprint(sample())}) == []


def test_differences_for_missing_unexpected_and_types() -> None:
    lines = differences({"a": fingerprint(1), "b": fingerprint(2)}, {"a": fingerprint("1")})
    assert lines == ["a: type differs (int 1 -> str '1')", "b: missing (expected int 2)"]
    assert differences({}, {"c": fingerprint(None)}) == ["c: unexpected (none)"]
    assert diff([1, 2], [1, 2, 3]) == ["x[2]: unexpected (int 3)"]
    assert diff({1, 2}, {1, 3}) == ["x: missing item (int 2)", "x: unexpected item (int 3)"]
    assert diff({1: "a"}, {1: "b"}) == ["x[1]: 'a' -> 'b'"]
    assert diff(collections.OrderedDict(a=1), {"a": 1}) == [
        "x: type differs (dict OrderedDict -> dict)"
    ]


def test_numpy_arrays_and_scalars() -> None:
    values = np.array([1.0, np.nan, 3.0])
    fp = fingerprint(values)
    assert fp["shape"] == [3] and fp["dtype"] == "float64"
    assert fp["stats"] == {"min": 1.0, "max": 3.0, "mean": 2.0, "std": 1.0, "nan_count": 1}
    assert fp["values"] == [1.0, "nan", 3.0]
    assert "values" not in fingerprint(np.zeros(21))
    assert fingerprint(np.asfortranarray(np.eye(3))) == fingerprint(np.eye(3))
    assert fingerprint(np.eye(3)) != fingerprint(np.eye(3).astype(np.float32))
    assert fingerprint(np.float32(0.5)) == {
        "type": "numpy_scalar",
        "dtype": "float32",
        "value": 0.5,
        "hex": "0x1.0000000000000p-1",
    }
    objects = fingerprint(np.array([{"k": 1}, None], dtype=object))
    assert objects["elements"]["items"][0]["items"]["k"]["value"] == 1


def fitted(seed: int) -> LogisticRegression:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(40, 3))
    return LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))


def test_sklearn_estimator_refitted_on_other_data_differs() -> None:
    fp = fingerprint(fitted(0))
    assert fp["type"] == "estimator" and fp["class"] == "LogisticRegression"
    assert fp["params"]["items"]["C"]["value"] == 1.0
    assert {"coef_", "intercept_", "classes_"} <= set(fp["fitted"]["items"])
    assert fingerprint(fitted(0)) == fp
    lines = differences({"clf": fp}, {"clf": fingerprint(fitted(1))})
    coef = [line for line in lines if line.startswith("clf.fitted.coef_: sha256 differs")]
    assert coef and "mean " in coef[0] and "shape (1, 3) -> (1, 3)" in coef[0]
    unfitted = differences({"clf": fp}, {"clf": fingerprint(LogisticRegression())})
    assert "clf.fitted.coef_: missing (expected ndarray (1, 3) float64)" in unfitted
    assert differences(
        {"clf": fingerprint(LogisticRegression(C=1.0))},
        {"clf": fingerprint(LogisticRegression(C=2.0))},
    ) == ["clf.params.C: 1.0 -> 2.0"]


def test_fitted_trees_differ_in_their_tree() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 2))
    by_first = DecisionTreeClassifier(random_state=0).fit(features, features[:, 0] > 0)
    by_second = DecisionTreeClassifier(random_state=0).fit(features, features[:, 1] > 0)
    lines = differences({"tree": fingerprint(by_first)}, {"tree": fingerprint(by_second)})
    # tree_ has no __dict__: its pickled state (nodes, values) is what differs
    assert any(line.startswith("tree.fitted.tree_.state.nodes: sha256 differs") for line in lines)


def test_torch_tensor_and_module() -> None:
    tensor = torch.tensor([1.0, 2.0], requires_grad=True)
    fp = fingerprint(tensor)
    assert fp["type"] == "tensor" and fp["requires_grad"] is True
    assert fp["values"] == [1.0, 2.0] and fp["stats"]["mean"] == 1.5
    assert fingerprint(tensor.detach()) != fp  # requires_grad is part of it
    assert fingerprint(torch.ones(3, dtype=torch.bfloat16))["sha256"]
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    torch.manual_seed(0)
    same = torch.nn.Linear(2, 1)
    assert fingerprint(model) == fingerprint(same)
    with torch.no_grad():
        same.weight[0, 1] += 1
    [line] = differences({"model": fingerprint(model)}, {"model": fingerprint(same)})
    assert line.startswith("model.state_dict.weight: sha256 differs")
    evaluating = fingerprint(model.eval())
    training = fingerprint(model.train())
    assert differences({"m": evaluating}, {"m": training}) == ["m: training False -> True"]


def test_pandas_frame_series_index() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    fp = fingerprint(frame)
    assert fp["shape"] == [3, 2] and fp["columns"] == ["a", "b"]
    assert fp["column_stats"]["a"]["mean"] == 2.0
    assert fingerprint(frame.copy()) == fp
    changed = frame.copy()
    changed.loc[1, "a"] = 5
    [line] = differences({"df": fp}, {"df": fingerprint(changed)})
    assert line == "df: sha256 differs (column 'a' mean 2.0 -> 3.0, shape (3, 2) -> (3, 2))"
    renamed = frame.rename(columns={"b": "c"})
    assert (
        "columns ['a', 'b'] -> ['a', 'c']"
        in differences({"df": fp}, {"df": fingerprint(renamed)})[0]
    )
    assert fingerprint(frame.set_index("b")) != fingerprint(frame.set_index("a"))
    assert fingerprint(pd.Series([1.0, None]))["stats"]["nan_count"] == 1
    assert fingerprint(pd.Index([1, 2])) != fingerprint(pd.Index([2, 1]))
    cells = pd.DataFrame({"lists": [[1], [2]]})  # unhashable cells
    assert fingerprint(cells) != fingerprint(pd.DataFrame({"lists": [[1], [3]]}))


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


class Slotted:
    __slots__ = ("x",)


def test_functions_classes_modules_and_objects() -> None:
    assert fingerprint(len) == {"type": "function", "name": "len"}
    assert fingerprint(Point) == {"type": "class", "name": "Point"}
    assert fingerprint(math) == {"type": "module", "name": "math"}
    assert fingerprint(sample)["name"] == "sample"  # no module: __main__ == generated module
    assert fingerprint(Point(1)) != fingerprint(Point(2))
    assert diff(Point(1), Point(2)) == ["x.attrs.x: 1 -> 2"]
    slotted = Slotted()
    assert fingerprint(slotted) == {"type": "object", "class": "Slotted"}
    slotted.x = 4
    assert fingerprint(slotted)["state"]["items"]["x"]["value"] == 4
    assert "0x" not in as_json(object())  # never an address


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *NUMBERS_AS_METRICS,
        (torch.tensor([0.75]), 0.75),
        (torch.tensor(2, dtype=torch.int64), 2.0),
    ],
)
def test_metric_value_of_numbers(value: object, expected: float) -> None:
    assert metric_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        True,
        np.bool_(False),
        torch.tensor(True),
        "1.0",
        None,
        [1.0],
        np.array([1.0, 2.0]),
        np.array([1.0]),
        torch.tensor([1.0, 2.0]),
        1j,
        10**400,
    ],
)
def test_metric_value_refuses_other_values(value: object) -> None:
    assert metric_value(value) is None
