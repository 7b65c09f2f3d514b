"""Stored test inputs: pickled, hash-checked, and notebook classes found in the generated module."""

from __future__ import annotations

import hashlib
import pickle
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlops_kernel.fixtures import FixtureError, dump_value, load_value, save_value


def test_round_trip_with_hash(tmp_path: Path) -> None:
    value = {"x": np.arange(5), "name": "iris", "nested": [1, (2.5, None)]}
    path = tmp_path / "deep" / "inputs" / "x.pkl"
    digest = save_value(path, value)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = load_value(path, digest)
    assert loaded["name"] == "iris" and loaded["nested"] == [1, (2.5, None)]
    np.testing.assert_array_equal(loaded["x"], np.arange(5))
    assert load_value(path)["name"] == "iris"  # no hash given: not checked
    assert [p.name for p in path.parent.iterdir()] == ["x.pkl"]  # no temporary left behind


def test_dump_value_is_pickle_protocol_5() -> None:
    data = dump_value([1, 2])
    assert data is not None and data[:2] == b"\x80\x05"
    assert pickle.loads(data) == [1, 2]


def make_closure() -> Any:
    offset = 3
    return lambda x: x + offset


def generator() -> Any:
    yield 1


@pytest.mark.parametrize(
    "value",
    [lambda x: x, make_closure(), generator(), {"ok": 1, "bad": lambda: None}],
    ids=["lambda", "closure", "generator", "nested-lambda"],
)
def test_unpicklable_values(tmp_path: Path, value: object) -> None:
    assert dump_value(value) is None
    with pytest.raises(FixtureError, match=r"cannot store fixture .*v\.pkl.*cannot be pickled"):
        save_value(tmp_path / "v.pkl", value)
    assert not list(tmp_path.iterdir())


def test_tampered_fixture_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    digest = save_value(path, [1, 2, 3])
    path.write_bytes(pickle.dumps([1, 2, 4], protocol=5))
    with pytest.raises(FixtureError) as caught:
        load_value(path, digest)
    message = str(caught.value)
    assert str(path) in message and "changed" in message and digest[:12] in message


def test_missing_fixture_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.pkl"
    with pytest.raises(FixtureError, match=r"gone\.pkl is missing"):
        load_value(path, "0" * 64)


def test_corrupt_fixture_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.pkl"
    path.write_bytes(b"not a pickle")
    with pytest.raises(FixtureError, match=r"cannot load fixture .*bad\.pkl"):
        load_value(path)


NOTEBOOK_MODULE = """
    class Scaler:
        def __init__(self, factor):
            self.factor = factor

        def apply(self, x):
            return x * self.factor

    def double(x):
        return 2 * x
"""


def pickled_from_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fixture holding an instance of a class defined in a notebook (``__main__``)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(textwrap.dedent(NOTEBOOK_MODULE), namespace)
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "Scaler", namespace["Scaler"], raising=False)
    monkeypatch.setattr(main, "double", namespace["double"], raising=False)
    path = tmp_path / "fixtures" / "scaler.pkl"
    save_value(path, {"scaler": namespace["Scaler"](3), "fn": namespace["double"]})
    assert b"__main__" in path.read_bytes()
    monkeypatch.delattr(main, "Scaler")
    monkeypatch.delattr(main, "double")
    return path


def test_main_classes_load_from_the_generated_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = pickled_from_main(monkeypatch, tmp_path)
    package = tmp_path / "src" / "nbpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "pipeline_mod.py").write_text(textwrap.dedent(NOTEBOOK_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    loaded = load_value(path, main_module="nbpkg.pipeline_mod")
    module = sys.modules["nbpkg.pipeline_mod"]
    assert type(loaded["scaler"]) is module.Scaler
    assert loaded["scaler"].apply(2) == 6
    assert loaded["fn"] is module.double


def test_main_classes_without_main_module_give_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = pickled_from_main(monkeypatch, tmp_path)
    with pytest.raises(FixtureError, match=r"cannot load fixture .*scaler\.pkl.*Scaler"):
        load_value(path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "other_mod.py").write_text("X = 1\n")
    with pytest.raises(FixtureError, match=r"looked up in 'other_mod'"):
        load_value(path, main_module="other_mod")
