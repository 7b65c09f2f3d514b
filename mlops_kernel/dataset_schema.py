"""The schema of a dataset's tabular files: columns, dtypes and row counts.

CSV/TSV files are streamed with the ``csv`` module and each column's type is
inferred from every value: ``bool`` (true/false), ``int``, ``float`` (ints and
floats mixed are float) or ``string``; empty cells are nulls and do not decide the
type (a column with nothing but nulls is ``empty``). Parquet files are read with
pyarrow when it is installed (only the footer: columns, Arrow types, row count);
without it the file's entry says to install it. A schema is informational: a file
that cannot be parsed gets an ``error`` and the dataset is still recorded.

A schema depends only on the file's bytes, so it is cached by the file's sha256.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_kernel.dataset_cache import HashCache

INFERENCE = 1
"""Version of the inference rules (cached schemas of another version are not reused)."""
CSV_SUFFIXES = {".csv": None, ".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
NO_PYARROW = "install pyarrow for Parquet schemas (pip install pyarrow)"

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$", re.I)
_BOOL = frozenset({"true", "false"})
_SNIFF_BYTES = 64 * 1024

Schema = dict[str, Any]


def is_tabular(relpath: str) -> bool:
    lower = relpath.lower()
    return lower.endswith(tuple(CSV_SUFFIXES)) or lower.endswith(PARQUET_SUFFIXES)


def file_schema(path: Path, relpath: str) -> Schema | None:
    """The schema of one file, or None when it is not a tabular file."""
    lower = relpath.lower()
    for suffix, delimiter in CSV_SUFFIXES.items():
        if lower.endswith(suffix):
            return csv_schema(path, delimiter)
    if lower.endswith(PARQUET_SUFFIXES):
        return parquet_schema(path)
    return None


def dataset_schema(
    files: list[tuple[str, Path, str]], cache: HashCache | None = None
) -> dict[str, Schema]:
    """Schemas of the tabular ones of ``files`` (relpath, real path, sha256), by relpath."""
    out: dict[str, Schema] = {}
    for relpath, real, digest in files:
        if not is_tabular(relpath):
            continue
        schema = cache.get_schema(digest, INFERENCE) if cache else None
        if schema is None:
            schema = file_schema(real, relpath)
            if schema is None:
                continue
            if cache is not None:
                cache.put_schema(digest, INFERENCE, schema)
        out[relpath] = schema
    return out


# -- CSV --------------------------------------------------------------------------------


def classify(value: str) -> str:
    if value.lower() in _BOOL:
        return "bool"
    if _INT.match(value):
        return "int"
    if _FLOAT.match(value):
        return "float"
    return "string"


def widen(current: str, new: str) -> str:
    if current in ("empty", new):
        return new
    if {current, new} == {"int", "float"}:
        return "float"
    return "string"


def csv_schema(path: Path, delimiter: str | None = None) -> Schema:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            if delimiter is None:
                delimiter = _sniff(fh.read(_SNIFF_BYTES))
                fh.seek(0)
            return _columns(csv.reader(fh, delimiter=delimiter), delimiter)
    except UnicodeDecodeError as exc:
        return {"format": "csv", "error": f"not UTF-8 text ({exc.reason} at byte {exc.start})"}
    except (csv.Error, OSError) as exc:
        return {"format": "csv", "error": str(exc)}


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _columns(rows: Iterator[list[str]], delimiter: str) -> Schema:
    header = next(rows, None)
    if header is None:
        return {"format": "csv", "delimiter": delimiter, "rows": 0, "columns": []}
    width = len(header)
    types = ["empty"] * width
    nulls = [0] * width
    count = ragged = 0
    for row in rows:
        if not row:
            continue  # a blank line is no record
        count += 1
        if len(row) != width:
            ragged += 1
        for i, value in enumerate(row[:width]):
            if not value:
                nulls[i] += 1
            elif types[i] != "string":
                types[i] = widen(types[i], classify(value.strip()))
        for i in range(len(row), width):
            nulls[i] += 1
    schema: Schema = {
        "format": "csv",
        "delimiter": delimiter,
        "rows": count,
        "columns": [
            {"name": name, "dtype": t, "nulls": n}
            for name, t, n in zip(header, types, nulls, strict=True)
        ],
    }
    if ragged:
        schema["error"] = f"{ragged} rows do not have {width} fields like the header"
    return schema


# -- Parquet ----------------------------------------------------------------------------


def parquet_schema(path: Path) -> Schema:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return {"format": "parquet", "error": NO_PYARROW}
    try:
        meta = pq.ParquetFile(path)
        arrow = meta.schema_arrow
        return {
            "format": "parquet",
            "rows": int(meta.metadata.num_rows),
            "columns": [{"name": f.name, "dtype": str(f.type), "nulls": None} for f in arrow],
        }
    except Exception as exc:  # pyarrow raises many kinds for a bad file
        return {"format": "parquet", "error": f"not a readable Parquet file: {exc}"}
