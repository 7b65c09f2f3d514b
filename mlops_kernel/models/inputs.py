"""Raw input rows in every form ``log_model`` accepts, normalised to one shape.

A raw input is what a served request holds: a pandas DataFrame, a 2-D numpy array,
a list of rows, or a torch tensor. It is normalised to a :class:`RawTable` holding a
DataFrame (when the input was one, so columns keep their names and dtypes) or a 2-D
numpy array. That normalised value is what a ``preprocess`` function receives, at log
time and at serving alike, so the two cannot see different types.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mlops_kernel.models.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

ACCEPTED = "a pandas DataFrame, a 2-D numpy array, a list of rows or a torch tensor"


@dataclass
class RawTable:
    """Raw rows: ``value`` is a DataFrame (``columns`` set) or a 2-D numpy array."""

    value: Any
    columns: list[str] | None
    dtypes: list[str]
    rows: int
    width: int

    def head(self, n: int) -> RawTable:
        """The first ``n`` rows, same form."""
        value = self.value.iloc[:n] if self.columns is not None else self.value[:n]
        return RawTable(value, self.columns, self.dtypes, min(n, self.rows), self.width)


def is_dataframe(data: object) -> bool:
    if "pandas" not in sys.modules:
        return False
    import pandas as pd

    return isinstance(data, pd.DataFrame)


def is_series(data: object) -> bool:
    if "pandas" not in sys.modules:
        return False
    import pandas as pd

    return isinstance(data, pd.Series)


def is_tensor(data: object) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(data, torch.Tensor)


def to_raw(data: Any, what: str) -> RawTable:
    """Normalise raw rows; ``what`` names the argument in error messages."""

    if is_dataframe(data):
        if len(data.columns) == 0 or len(data) == 0:
            raise ModelError(f"{what} is an empty DataFrame; pass at least one row")
        columns = [str(c) for c in data.columns]
        dtypes = [str(t) for t in data.dtypes]
        return RawTable(data, columns, dtypes, len(data), len(columns))
    array = _as_array(data, what)
    return RawTable(array, None, [str(array.dtype)] * array.shape[1], *array.shape)


def _as_array(data: Any, what: str) -> np.ndarray[Any, Any]:
    import numpy as np

    if is_tensor(data):
        data = data.detach().cpu().numpy()
    if is_series(data):
        raise ModelError(
            f"{what} is a pandas Series; pass a DataFrame (series.to_frame()) "
            "or a 2-D array, one row per example"
        )
    if isinstance(data, list | tuple):
        try:
            array = np.asarray(data)
        except ValueError as exc:
            raise ModelError(f"{what} must be a list of rows of equal length ({exc})") from exc
        if array.dtype.kind not in "iufb":
            array = np.array(data, dtype=object)
    elif isinstance(data, np.ndarray):
        array = data
    else:
        raise ModelError(f"{what} must be {ACCEPTED}; got {type(data).__name__}")
    if array.ndim != 2:
        raise ModelError(
            f"{what} must be 2-D (one row per example); got shape {array.shape}; "
            "for a single row use x.reshape(1, -1)"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ModelError(f"{what} is empty (shape {array.shape}); pass at least one row")
    return array


def to_vector(data: Any, what: str, rows: int) -> np.ndarray[Any, Any]:
    """A 1-D array of ``rows`` values (labels, targets, a sensitive column).

    Text and mixed values become a fixed-width string array, so that the
    evaluation file can be read back without pickle.
    """
    import numpy as np

    if is_tensor(data):
        data = data.detach().cpu().numpy()
    if is_series(data) or is_dataframe(data):
        data = data.to_numpy()
    array = np.asarray(data)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != rows:
        raise ModelError(
            f"{what} must hold one value per evaluation row ({rows}); got shape {array.shape}"
        )
    if array.dtype.kind not in "iufbU":
        array = array.astype(str)
    return array


def model_matrix(data: Any, what: str) -> np.ndarray[Any, Any]:
    """The model input (after preprocessing) as a numeric 2-D array.

    Only numeric inputs are exported: one ONNX input of shape ``[None, n]``. A
    DataFrame with text or date columns is refused, naming them.
    """
    if is_dataframe(data):
        bad = [
            str(c) for c, t in zip(data.columns, data.dtypes, strict=True) if t.kind not in "iufb"
        ]
        if bad:
            raise ModelError(
                f"{what} has non-numeric columns {', '.join(map(repr, bad))}; only "
                "numeric inputs can be exported: encode them in a preprocess function "
                "(log_model(..., preprocess=fn)) that returns numbers"
            )
        return data.to_numpy()  # type: ignore[no-any-return]
    array = _as_array(data, what)
    if array.dtype.kind not in "iufb":
        raise ModelError(
            f"{what} holds non-numeric values (dtype {array.dtype}); only numeric "
            "inputs can be exported: convert them in a preprocess function (preprocess=fn)"
        )
    return array


def json_rows(raw: RawTable, limit: int) -> list[list[Any]]:
    """The first ``limit`` rows as JSON values (NaN and missing values become null)."""
    head = raw.head(limit).value
    if raw.columns is not None:
        rows = [list(row) for row in head.itertuples(index=False, name=None)]
    else:
        rows = head.tolist()
    return [[json_value(v) for v in row] for row in rows]


def json_value(value: Any) -> Any:
    """One cell as a JSON value: numpy scalars unwrapped, dates as ISO text, NaN as null."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_missing(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def is_missing(value: object) -> bool:
    """pandas' NA and NaT (checked without importing pandas)."""
    return type(value).__name__ in {"NAType", "NaTType"}
