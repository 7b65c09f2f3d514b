"""Model outputs -> predictions, and native vs ONNX parity.

:func:`to_predictions` is the one place that turns a model's raw output into
predictions. ``log_model`` (native and ONNX), the gates and serving all call it, so
they cannot disagree on what a model predicted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_kernel.models.manifest import ParityResult

if TYPE_CHECKING:
    import numpy as np


def to_predictions(task: str, output: Any) -> np.ndarray[Any, Any]:
    """The predictions held in a model output (one per row).

    - ``classification`` with a float output of two or more axes (logits or scores,
      as a torch classifier returns): the argmax over the last axis, as int64 class
      indices. Label outputs (scikit-learn's ``label``) are passed through.
    - a single column ``(n, 1)`` (a regressor's ``variable``): flattened to ``(n,)``.
    - anything else is returned as it is (e.g. embeddings for task ``other``).
    """
    import numpy as np

    array = np.asarray(output)
    if task == "classification" and array.ndim >= 2 and array.dtype.kind == "f":
        labels: np.ndarray[Any, Any] = array.argmax(axis=-1).astype(np.int64)
        return labels
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    return array


def compare_predictions(
    native: np.ndarray[Any, Any], onnx: np.ndarray[Any, Any], task: str, tolerance: float
) -> ParityResult:
    """Native vs ONNX predictions on the same rows.

    - classification: ``mismatches`` counts rows whose labels differ (compared as
      numbers when both are numeric, else as text); passed when
      ``mismatches / rows <= tolerance``. So the default 1e-4 allows no mismatch on
      fewer than 10,000 rows.
    - regression and other: passed when
      ``max_abs_diff <= tolerance * max(1, max |native|)``: absolute for values near
      or below 1, relative for larger ones (float32 ONNX vs float64 native).
    Different shapes never pass.
    """
    import numpy as np

    native, onnx = np.asarray(native), np.asarray(onnx)
    rows = int(native.shape[0]) if native.ndim else 0
    if native.shape != onnx.shape:
        return ParityResult(
            passed=False,
            rows=rows,
            tolerance=tolerance,
            mismatches=rows,
            detail=f"shapes differ: native {native.shape}, onnx {onnx.shape}",
        )
    if task == "classification":
        numeric = native.dtype.kind in "iufb" and onnx.dtype.kind in "iufb"
        a, b = (native, onnx) if numeric else (native.astype(str), onnx.astype(str))
        differ = a != b if a.ndim == 1 else (a != b).reshape(rows, -1).any(axis=1)
        mismatches = int(np.count_nonzero(differ))
        passed = rows > 0 and mismatches / rows <= tolerance
        detail = f"{mismatches} of {rows} labels differ"
        return ParityResult(
            passed=passed, rows=rows, tolerance=tolerance, mismatches=mismatches, detail=detail
        )
    if native.dtype.kind not in "iufb" or onnx.dtype.kind not in "iufb":
        same = bool(np.array_equal(native.astype(str), onnx.astype(str)))
        return ParityResult(
            passed=same,
            rows=rows,
            tolerance=tolerance,
            mismatches=0 if same else rows,
            detail="non-numeric outputs compared exactly",
        )
    a64, b64 = native.astype(np.float64), onnx.astype(np.float64)
    both_nan = np.isnan(a64) & np.isnan(b64)
    diff = np.where(both_nan, 0.0, np.abs(a64 - b64))
    max_diff = float(np.nanmax(diff, initial=0.0)) if diff.size else 0.0
    if np.isnan(diff).any():  # NaN on one side only
        max_diff = float("inf")
    scale = max(1.0, float(np.nanmax(np.abs(a64), initial=0.0)) if a64.size else 1.0)
    bound = tolerance * scale
    return ParityResult(
        passed=rows > 0 and max_diff <= bound,
        rows=rows,
        tolerance=tolerance,
        max_abs_diff=max_diff,
        detail=f"max |native - onnx| = {max_diff:.3g}, allowed {bound:.3g}",
    )
