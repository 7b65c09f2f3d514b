"""Served rows -> feeds, output -> predictions, and the parity rule, in isolation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from mlops_kernel.models.errors import InputError
from mlops_kernel.models.manifest import ModelManifest, ModelSignature, TensorSpec
from mlops_kernel.models.predictions import compare_predictions, to_predictions
from mlops_kernel.models.rows import rows_to_features


def manifest(columns: list[str] | None = None, dtype: str = "float32") -> ModelManifest:
    width = len(columns) if columns else 3
    return ModelManifest(
        name="m",
        flavor="sklearn",
        task="regression",
        onnx_sha256="0" * 64,
        opset=17,
        native_file="native.pkl",
        signature=ModelSignature(
            inputs=[TensorSpec(name="X", dtype=dtype, shape=[None, width])],
            outputs=[TensorSpec(name="variable", dtype="float32", shape=[None, 1])],
        ),
        prediction_output="variable",
        input_columns=columns,
        raw_input_width=width,
        created_at=datetime.now(UTC),
    )


def test_numeric_rows_become_one_feed_of_the_input_dtype() -> None:
    feeds = rows_to_features(manifest(), [[1, 2.5, 3], [4, 5, 6]], None)
    assert list(feeds) == ["X"]
    assert feeds["X"].dtype == np.float32
    np.testing.assert_array_equal(feeds["X"], [[1, 2.5, 3], [4, 5, 6]])


def test_null_is_nan_for_float_inputs_only() -> None:
    feeds = rows_to_features(manifest(), [[1, None, 3]], None)
    assert np.isnan(feeds["X"][0, 1])
    with pytest.raises(InputError, match=r"row 0, column 1: None is not a number$"):
        rows_to_features(manifest(dtype="int64"), [[1, None, 3]], None)


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ([], "inputs must be a non-empty list of rows"),
        ([[1, 2, 3], [1, 2]], "row 1: expected a list of 3 values (a, b, c); got 2 values"),
        ([{"a": 1}], "row 0: expected a list of 3 values (a, b, c); got dict"),
        ([[1, 2, 3], [1, "2", 3]], "row 1, column 'b': '2' is not a number or null"),
        ([[1, [2], 3]], "row 0, column 'b': [2] is not a number or null"),
    ],
)
def test_rows_that_do_not_fit_name_the_row_and_column(rows: list[Any], says: str) -> None:
    with pytest.raises(InputError) as info:
        rows_to_features(manifest(["a", "b", "c"]), rows, None)
    assert str(info.value) == says


def test_classification_logits_become_class_indices() -> None:
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]], dtype=np.float32)
    assert to_predictions("classification", logits).tolist() == [1, 0]
    assert to_predictions("regression", logits[:, :1]).tolist() == pytest.approx([0.1, 3.0])
    assert to_predictions("other", logits).shape == (2, 3)
    labels = np.array(["a", "b"])
    assert to_predictions("classification", labels).tolist() == ["a", "b"]


def test_classification_parity_is_the_share_of_differing_labels() -> None:
    native = np.arange(10) % 3
    onnx = native.copy()
    onnx[4] += 1
    assert not compare_predictions(native, onnx, "classification", 0.05).passed
    result = compare_predictions(native, onnx, "classification", 0.1)
    assert result.passed and result.mismatches == 1 and result.rows == 10
    text = compare_predictions(
        np.array(["a", "b"]), np.array(["a", "b"], dtype=object), "classification", 0.0
    )
    assert text.passed


def test_regression_parity_is_relative_above_one_and_absolute_below() -> None:
    native = np.array([1000.0, 2.0])
    assert compare_predictions(native, native + 0.05, "regression", 1e-4).passed  # 0.05 <= 0.1
    assert not compare_predictions(native, native + 0.2, "regression", 1e-4).passed
    small = np.array([0.1, 0.2])
    result = compare_predictions(small, small + 2e-4, "regression", 1e-4)
    assert not result.passed and result.max_abs_diff == pytest.approx(2e-4)
    assert not compare_predictions(small, np.array([0.1, np.nan]), "regression", 1.0).passed


def test_different_shapes_never_pass() -> None:
    result = compare_predictions(np.zeros(3), np.zeros((3, 2)), "other", 1.0)
    assert not result.passed and "shapes differ" in result.detail
