"""Served rows (JSON values) -> the ONNX model's feeds.

A served row holds one value per raw input column (``manifest.raw_input_width``). Without
a preprocess function the values must be numbers (``null`` is read as NaN for float
inputs). With one, the rows are rebuilt in the form the function saw at training, a
pandas DataFrame with the logged columns and dtypes or a 2-D numpy array, and its output
becomes the feed. Every refusal is an :class:`InputError` naming the row and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlops_kernel.models.errors import InputError, ModelError
from mlops_kernel.models.inputs import model_matrix
from mlops_kernel.models.manifest import ModelManifest, TensorSpec
from mlops_kernel.models.preprocess import Preprocess

if TYPE_CHECKING:
    import numpy as np


def model_features(model_input: Any, spec: TensorSpec, what: str) -> np.ndarray[Any, Any]:
    """A model input (after preprocessing) as the feed of ONNX input ``spec``."""
    array = model_matrix(model_input, what)
    width = spec.shape[1] if len(spec.shape) == 2 else None
    if width is not None and array.shape[1] != width:
        raise ModelError(f"{what} has {array.shape[1]} columns; the model takes {width}")
    return array.astype(spec.dtype, copy=False)


def rows_to_features(
    manifest: ModelManifest, rows: list[list[Any]], preprocess: Preprocess | None
) -> dict[str, np.ndarray[Any, Any]]:
    """Raw JSON rows -> ``{onnx input name: array}``; InputError for rows that do not fit."""
    if not isinstance(rows, list) or not rows:
        raise InputError("inputs must be a non-empty list of rows")
    spec = manifest.signature.inputs[0]
    width = manifest.raw_input_width or (spec.shape[1] if len(spec.shape) == 2 else None)
    columns = manifest.input_columns
    for i, row in enumerate(rows):
        if not isinstance(row, list | tuple) or (width is not None and len(row) != width):
            got = f"{len(row)} values" if isinstance(row, list | tuple) else type(row).__name__
            names = f" ({', '.join(columns)})" if columns else ""
            raise InputError(f"row {i}: expected a list of {width} values{names}; got {got}")
    if preprocess is None:
        if manifest.preprocess is not None:
            raise ValueError(f"model {manifest.name} needs its preprocess: use load_preprocess")
        return {spec.name: _numeric(rows, columns, spec.dtype)}
    raw = _raw_value(manifest, rows)
    try:
        model_input = preprocess(raw)
    except Exception as exc:
        raise InputError(f"preprocess failed on these rows: {type(exc).__name__}: {exc}") from exc
    try:
        return {spec.name: model_features(model_input, spec, "the preprocessed input")}
    except ModelError as exc:
        raise InputError(str(exc)) from exc


def _kind(dtype: str) -> str:
    import numpy as np

    try:
        return str(np.dtype(dtype).kind)
    except TypeError:  # pandas' own dtypes: category, string, Int64, ...
        return "O"


def _numeric(rows: Sequence[Sequence[Any]], columns: list[str] | None, dtype: str) -> Any:
    """Rows of numbers as a 2-D array of ``dtype``; names the first bad cell otherwise."""
    import numpy as np

    try:
        array = np.asarray(rows)
    except ValueError:
        array = np.asarray([], dtype=object)
    if array.dtype.kind in "iufb" and array.ndim == 2:
        return array.astype(dtype)
    nulls = _kind(dtype) == "f"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is None and nulls:
                continue
            if value is None or not isinstance(value, bool | int | float):
                column = repr(columns[j]) if columns else str(j)
                need = "a number" if not nulls else "a number or null"
                raise InputError(f"row {i}, column {column}: {value!r} is not {need}")
    return np.asarray(rows, dtype=np.float64).astype(dtype)


def _raw_value(manifest: ModelManifest, rows: list[list[Any]]) -> Any:
    """The rows as the preprocess function saw its input at log time."""
    import numpy as np

    columns = manifest.input_columns
    width = len(rows[0])
    dtypes = manifest.input_dtypes or ["object"] * width
    if columns is None:
        dtype = dtypes[0]
        if _kind(dtype) in "iufb":
            return _numeric(rows, None, dtype)
        return np.array(rows, dtype=str if _kind(dtype) == "U" else object)
    import pandas as pd

    data: dict[str, Any] = {}
    for j, (name, dtype) in enumerate(zip(columns, dtypes, strict=True)):
        values = [row[j] for row in rows]
        kind = _kind(dtype)
        if kind in "iufb":
            data[name] = _numeric([[v] for v in values], [name], dtype)[:, 0]
            continue
        try:
            if kind == "M":
                data[name] = pd.to_datetime(pd.Series(values, dtype=object))
            elif dtype == "object":
                data[name] = pd.Series(values, dtype=object)
            else:  # pandas' str, string, category, ...
                data[name] = pd.Series(values, dtype=object).astype(dtype)
        except (TypeError, ValueError) as exc:
            raise InputError(f"column {name!r}: values do not fit dtype {dtype}: {exc}") from exc
    return pd.DataFrame(data, columns=columns)
