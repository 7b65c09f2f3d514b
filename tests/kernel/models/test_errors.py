"""User mistakes give one clear line; a tampered model folder is caught by validation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skl2onnx
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlops_kernel.models import onnx_runtime as rt
from mlops_kernel.models.errors import ModelError, ModelExportError
from mlops_kernel.models.log import log_model
from mlops_kernel.models.manifest import MANIFEST_FILE, MODELS_DIR, ONNX_FILE

X = np.random.default_rng(0).normal(size=(30, 3))
Y = (X[:, 0] > 0).astype(int)


class Unconvertible(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted estimator skl2onnx has no converter for."""

    def fit(self, X: Any, y: Any) -> Unconvertible:
        self.classes_ = np.unique(y)
        return self

    def predict(self, X: Any) -> Any:
        return np.zeros(len(X), dtype=int)


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text, text
    return text


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"model": object()}, "unsupported model type builtins.object"),
        ({"model": LogisticRegression()}, "is not fitted; call fit() before log_model"),
        ({"name": "no/slashes"}, "name must be letters"),
        ({"task": "ranking"}, "task must be one of"),
        ({"sample_input": X[0]}, "must be 2-D (one row per example)"),
        ({"sample_input": pd.Series([1.0, 2.0])}, "is a pandas Series"),
        ({"sample_input": "1,2,3"}, "must be a pandas DataFrame, a 2-D numpy array"),
        ({"sensitive": ["a"]}, "sensitive needs evaluation"),
        ({"evaluation": (X, Y, Y)}, "got a tuple of 3"),
        (
            {"evaluation": (X[:, :2], Y)},
            "X_eval must have the columns of sample_input (3 columns); got (2 columns)",
        ),
        ({"evaluation": (X, Y[:5])}, "y_eval must hold one value per evaluation row (30)"),
        ({"evaluation": (X, Y), "sensitive": ["a"]}, "needs X_eval to be a DataFrame"),
        ({"evaluation": (X, Y), "sensitive": {"s": [1, 2]}}, "sensitive['s'] must hold one"),
    ],
)
def test_argument_mistakes(run_dir: Path, kwargs: dict[str, Any], says: str) -> None:
    args: dict[str, Any] = {
        "model": LogisticRegression().fit(X, Y),
        "sample_input": X[:4],
        "name": "m",
    }
    args.update(kwargs)
    with pytest.raises(ModelError) as info:
        log_model(args.pop("model"), args.pop("sample_input"), **args)
    assert says in one_line(info.value)


def test_text_columns_without_preprocess_are_named(run_dir: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "city": ["a", "b"], "kind": ["u", "v"]})
    model = LinearRegression().fit(np.array([[1.0], [2.0]]), [1.0, 2.0])
    with pytest.raises(ModelError, match="non-numeric columns 'city', 'kind'") as info:
        log_model(model, frame, name="m")
    assert "preprocess" in one_line(info.value)


def test_missing_sensitive_column_is_named(run_dir: Path) -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = LogisticRegression().fit(frame, Y)
    with pytest.raises(ModelError, match=r"sensitive columns \['sex'\] are not in X_eval"):
        log_model(model, frame, name="m", evaluation=(frame, Y), sensitive=["sex"])


def test_an_estimator_skl2onnx_cannot_convert_gives_an_export_error(run_dir: Path) -> None:
    with pytest.raises(ModelExportError, match="skl2onnx cannot convert Unconvertible") as info:
        log_model(Unconvertible().fit(X, Y), X, name="m")
    assert isinstance(info.value, ValueError)
    assert "update_registered_converter" in one_line(info.value)
    assert not (run_dir / MODELS_DIR / "m").exists()  # no half-written folder is left


def test_validate_catches_a_tampered_model_onnx(run_dir: Path) -> None:
    log_model(LogisticRegression().fit(X, Y), X, name="m")
    model_dir = run_dir / MODELS_DIR / "m"
    assert rt.validate_model_dir(model_dir) == []
    data = bytearray((model_dir / ONNX_FILE).read_bytes())
    data[-20:] = b"\x00" * 20
    (model_dir / ONNX_FILE).write_bytes(bytes(data))
    problems = rt.validate_model_dir(model_dir)
    assert any("was changed after logging" in p for p in problems), problems


def test_validate_catches_a_swapped_model_with_another_signature(run_dir: Path) -> None:
    log_model(LogisticRegression().fit(X, Y), X, name="m")
    model_dir = run_dir / MODELS_DIR / "m"
    other = skl2onnx.to_onnx(LinearRegression().fit(X[:, :2], Y), X[:1, :2].astype(np.float32))
    data = other.SerializeToString()
    (model_dir / ONNX_FILE).write_bytes(data)
    manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
    manifest["onnx_sha256"] = hashlib.sha256(data).hexdigest()  # a consistent forgery
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest))
    problems = rt.validate_model_dir(model_dir)
    assert any("signature differs" in p for p in problems), problems
    assert any("no output 'label'" in p for p in problems), problems


def test_validate_reports_an_unreadable_manifest(tmp_path: Path) -> None:
    assert "cannot read" in rt.validate_model_dir(tmp_path)[0]
    (tmp_path / MANIFEST_FILE).write_text('{"name": 3}')
    (problem,) = rt.validate_model_dir(tmp_path)
    assert "is not a valid model manifest" in problem
    with pytest.raises(ValueError, match="not a valid model manifest"):
        rt.read_manifest(tmp_path)
