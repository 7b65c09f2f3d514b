"""Fingerprints of pandas objects (see :mod:`mlops_kernel.fingerprint`).

A frame is summarised by its shape, column names, dtypes, a sha256 over
``pandas.util.hash_pandas_object`` (values and index, row by row) and the
statistics of its numeric columns, so a changed cell is caught and the message
can say which column moved.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from mlops_kernel.fingerprint import Fingerprint, _qualname, _sha256, _stats

__all__ = ["pandas_fingerprint"]


def pandas_fingerprint(
    pd: Any, value: Any, max_items: int, digest: Callable[[list[Any]], str]
) -> Fingerprint | None:
    """The fingerprint of a DataFrame, Series or Index; None for other pandas objects."""
    np = sys.modules["numpy"]  # pandas depends on numpy

    def labels(names: list[str]) -> list[str] | Fingerprint:
        if len(names) <= max_items:
            return names
        return {"type": "list", "length": len(names), "digest": digest(list(names))}

    def index_of(frame: Any) -> Fingerprint:
        return {"type": _qualname(type(frame.index)), "dtype": str(frame.index.dtype)}

    if isinstance(value, pd.DataFrame):
        fp: Fingerprint = {"type": "DataFrame", "shape": list(value.shape)}
        fp["columns"] = labels([str(c) for c in value.columns])
        fp["dtypes"] = labels([str(t) for t in value.dtypes])
        fp["index"] = index_of(value)
        fp["sha256"] = _pandas_sha256(pd, np, value)
        numeric = value.select_dtypes(include="number")
        fp["column_stats"] = {
            str(name): _stats(np, numeric.iloc[:, i].to_numpy("float64", na_value=np.nan))
            for i, name in enumerate(numeric.columns[:max_items])
        }
        return fp
    if isinstance(value, pd.Series):
        fp = {"type": "Series", "shape": list(value.shape), "dtype": str(value.dtype)}
        fp["name"] = None if value.name is None else str(value.name)
        fp["index"] = index_of(value)
        fp["sha256"] = _pandas_sha256(pd, np, value)
        if pd.api.types.is_numeric_dtype(value.dtype) and value.dtype != bool:
            fp["stats"] = _stats(np, value.to_numpy("float64", na_value=np.nan))
        return fp
    if isinstance(value, pd.Index):
        fp = {"type": "Index", "class": _qualname(type(value)), "shape": list(value.shape)}
        fp.update(dtype=str(value.dtype), sha256=_pandas_sha256(pd, np, value))
        return fp
    return None


def _pandas_sha256(pd: Any, np: Any, value: Any) -> str:
    """sha256 of ``hash_pandas_object`` (values and index); unhashable cells via str."""
    try:
        hashed = pd.util.hash_pandas_object(value)
    except TypeError:  # lists or dicts in cells
        hashed = pd.util.hash_pandas_object(value.astype(str))
    return _sha256(np.ascontiguousarray(np.asarray(hashed, dtype=np.uint64)))
