"""A preprocess function: checked, copied with its hash, and used again at serving."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlops_kernel.models import onnx_runtime as rt
from mlops_kernel.models.errors import InputError, ModelError
from mlops_kernel.models.log import log_model
from mlops_kernel.models.manifest import MODELS_DIR, PREPROCESS_FILE

FEATURES = """
import numpy as np


def prepare(frame):
    numbers = frame[["a", "b"]].to_numpy(dtype=float) * 2.0
    red = (frame["color"] == "red").to_numpy(dtype=float)[:, None]
    return np.hstack([numbers, red])
"""


def raw_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.integers(0, 10, size=n),
            "color": rng.choice(["red", "blue"], size=n),
        }
    )


def test_preprocess_is_copied_hashed_and_used_for_served_rows(
    run_dir: Path, make_module: Callable[[str], ModuleType]
) -> None:
    module = make_module(FEATURES)
    frame = raw_frame(80)
    y = ((frame["a"] > 0) & (frame["color"] == "red")).astype(int).to_numpy()
    model = LogisticRegression().fit(module.prepare(frame), y)

    manifest = log_model(
        model, frame[:5], name="pp", evaluation=(frame, y), preprocess=module.prepare
    )
    model_dir = run_dir / MODELS_DIR / "pp"
    copy = model_dir / PREPROCESS_FILE
    source = Path(module.__file__ or "")
    assert copy.read_bytes() == source.read_bytes()
    assert manifest.preprocess is not None
    assert manifest.preprocess.module == module.__name__
    assert manifest.preprocess.function == "prepare"
    assert manifest.preprocess.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest.input_columns == ["a", "b", "color"]
    assert manifest.input_dtypes == ["float64", "int64", str(frame.dtypes["color"])]
    assert manifest.signature.inputs[0].shape == [None, 3]
    assert manifest.parity is not None and manifest.parity.passed
    assert manifest.sample_input[0][2] in ("red", "blue")

    loaded = rt.load_preprocess(model_dir, manifest)
    assert loaded is not None and loaded is not module.prepare
    feeds = rt.rows_to_features(manifest, manifest.sample_input, loaded)
    (feed,) = feeds.values()
    np.testing.assert_allclose(feed, module.prepare(frame[:5]).astype(np.float32))
    session = rt.open_session(model_dir / manifest.onnx_file)
    assert rt.run_onnx(session, manifest, feeds).tolist() == manifest.sample_output
    assert manifest.sample_output == model.predict(module.prepare(frame[:5])).tolist()
    assert rt.validate_model_dir(model_dir) == []

    with pytest.raises(InputError, match=r"row 1, column 'a': 'x' is not a number"):
        rt.rows_to_features(manifest, [[0.5, 1, "red"], ["x", 1, "red"]], loaded)
    with pytest.raises(ValueError, match="needs its preprocess"):
        rt.rows_to_features(manifest, manifest.sample_input, None)


def test_a_changed_copy_is_refused(run_dir: Path, make_module: Callable[[str], ModuleType]) -> None:
    module = make_module(FEATURES)
    frame = raw_frame(30)
    y = (frame["a"] > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(module.prepare(frame), y)
    manifest = log_model(model, frame, name="pp", preprocess=module.prepare)
    model_dir = run_dir / MODELS_DIR / "pp"
    with (model_dir / PREPROCESS_FILE).open("a") as fh:
        fh.write("\nprint('changed')\n")
    with pytest.raises(ValueError, match="changed since the model was logged"):
        rt.load_preprocess(model_dir, manifest)
    problems = rt.validate_model_dir(model_dir)
    assert any(PREPROCESS_FILE in p for p in problems), problems


def test_raw_numpy_rows_reach_preprocess_as_an_array(
    run_dir: Path, make_module: Callable[[str], ModuleType]
) -> None:
    module = make_module(
        "import numpy as np\n\ndef square(x):\n    assert isinstance(x, np.ndarray)\n"
        "    return np.asarray(x, dtype=float) ** 2\n"
    )
    X = np.random.default_rng(1).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(module.square(X), y)
    manifest = log_model(model, X[:3], name="sq", preprocess=module.square)
    loaded = rt.load_preprocess(run_dir / MODELS_DIR / "sq", manifest)
    (feed,) = rt.rows_to_features(manifest, X[:3].tolist(), loaded).values()
    np.testing.assert_allclose(feed, (X[:3] ** 2).astype(np.float32))


def lambda_fn() -> Callable[[object], object]:
    return lambda x: x


def closure_fn() -> Callable[[object], object]:
    factor = 2.0

    def inner(x: object) -> object:
        return [factor, x]

    return inner


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (lambda_fn(), "got a lambda"),
        (closure_fn(), "defined inside another function"),
        (len, "got builtin_function_or_method"),
    ],
)
def test_unservable_preprocess_functions_are_refused(
    run_dir: Path, fn: Callable[[object], object], says: str
) -> None:
    X = np.zeros((4, 2))
    model = LogisticRegression().fit(np.eye(4)[:, :2], [0, 1, 0, 1])
    with pytest.raises(ModelError, match="preprocess must be a module-level function") as info:
        log_model(model, X, name="bad", preprocess=fn)
    assert says in str(info.value)
    assert "\n" not in str(info.value)
    assert not (run_dir / MODELS_DIR / "bad").exists()


def test_a_function_from_main_is_refused(run_dir: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec("def prep(x):\n    return x\n", namespace)
    model = LogisticRegression().fit(np.eye(4)[:, :2], [0, 1, 0, 1])
    with pytest.raises(ModelError, match="from __main__"):
        log_model(model, np.zeros((2, 2)), name="main", preprocess=namespace["prep"])  # type: ignore[arg-type]
