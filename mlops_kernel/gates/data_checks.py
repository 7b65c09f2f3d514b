"""Data checks of a dataset version's tabular files against ``[gates.data.NAME]`` rules.

CSV/TSV files are streamed with the ``csv`` module and typed value by value with the very
rules of :mod:`mlops_kernel.dataset_schema` (so the families here are the words a dataset
version records: ``int``, ``float``, ``bool``, ``string``; empty cells are nulls), and a text
column whose every value is an ISO 8601 date or time counts as ``datetime``. Parquet files
are read with pyarrow (only the columns the rules name); their Arrow types are mapped onto
the families by :func:`dtype_family`. An ``int`` column satisfies ``float`` (whole numbers
are written as ints in CSV); a column with no values at all passes its dtype rule (the
``not_null`` rule is the one about nulls).

A rule applies to the files that hold its column (a dataset may hold several tables); a
column that is in no file fails. ``min_rows`` is summed over the files.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mlops_kernel.dataset_schema import classify, is_tabular, widen

from .rules import DataRules

if TYPE_CHECKING:
    import numpy.typing as npt

_ACCEPTS = {
    "int": {"int"},
    "float": {"int", "float"},
    "bool": {"bool"},
    "string": {"string"},
    "datetime": {"datetime"},
}
_DICTIONARY = re.compile(r"^dictionary<values=([^,>]+)")
_SNIFF_BYTES = 64 * 1024


@dataclass
class DataFinding:
    rule: str
    """``columns.age``, ``not_null.age``, ``ranges.age``, ``min_rows``; ``read:FILE`` for a
    file that cannot be read, ``files`` when there is no tabular file at all."""
    passed: bool
    detail: str


@dataclass
class _Column:
    family: str = "empty"
    nulls: int = 0
    below: int = 0
    above: int = 0
    not_numbers: int = 0
    low: float | None = None
    high: float | None = None
    dates: bool = True
    """Every non-null value so far reads as an ISO 8601 date/time (CSV only)."""

    def seen(self, number: float) -> None:
        self.low = number if self.low is None else min(self.low, number)
        self.high = number if self.high is None else max(self.high, number)


@dataclass
class _File:
    rows: int = 0
    columns: dict[str, _Column] = field(default_factory=dict)
    error: str | None = None


def dtype_family(dtype: str) -> str:
    """The family of a recorded dtype: a CSV word, an Arrow type or a pandas dtype.

    ``int8``..``uint64`` -> int; ``halffloat``/``float``/``double``/``decimal128(..)`` ->
    float; ``bool`` -> bool; ``string``/``large_string``/``utf8``/``object`` -> string;
    ``timestamp[..]``/``date32[day]``/``date64``/``datetime64[ns]`` -> datetime; a
    dictionary takes its values' family. Anything else (lists, binary, ...) is returned as
    is, so it matches no family.
    """
    word = dtype.strip().lower()
    found = _DICTIONARY.match(word)
    if found:
        return dtype_family(found.group(1))
    if word in ("empty", "bool", "boolean"):
        return "bool" if word == "boolean" else word
    if word.startswith(("int", "uint")):
        return "int"
    if word.startswith(("float", "double", "halffloat", "decimal")) or word == "float":
        return "float"
    if word in ("string", "large_string", "utf8", "large_utf8", "str", "object", "category"):
        return "string"
    if word.startswith(("timestamp", "date", "datetime")):
        return "datetime"
    return word


def check_dataset(root: Path, rules: DataRules) -> list[DataFinding]:
    """Every rule's finding for the tabular files at ``root`` (a folder or one file)."""
    files = _tabular_files(root)
    if not files:
        return [DataFinding("files", False, f"no CSV or Parquet file in {root}")]
    wanted = {*rules.columns, *rules.not_null, *rules.ranges}
    stats: dict[str, _File] = {}
    findings: list[DataFinding] = []
    for rel, path in files:
        stats[rel] = (
            _parquet(path, wanted, rules) if _is_parquet(rel) else _csv(path, wanted, rules)
        )
        error = stats[rel].error
        if error is not None:
            findings.append(DataFinding(f"read:{rel}", False, f"{rel} cannot be read: {error}"))
    readable = {rel: f for rel, f in stats.items() if f.error is None}
    for column, family in rules.columns.items():
        findings.append(_dtype_finding(column, family, readable))
    for column in rules.not_null:
        findings.append(_null_finding(column, readable))
    for column, bounds in rules.ranges.items():
        findings.append(_range_finding(column, bounds, readable))
    if rules.min_rows is not None:
        rows = sum(f.rows for f in readable.values())
        findings.append(
            DataFinding(
                "min_rows",
                rows >= rules.min_rows,
                f"{rows} rows in {_count(len(readable), 'file')} "
                f"(at least {rules.min_rows} needed)",
            )
        )
    return findings


# -- findings -----------------------------------------------------------------------


def _holding(column: str, files: dict[str, _File]) -> dict[str, _Column]:
    return {rel: f.columns[column] for rel, f in files.items() if column in f.columns}


def _missing(rule: str, column: str, files: dict[str, _File]) -> DataFinding:
    names = ", ".join(files) or "none readable"
    return DataFinding(rule, False, f"column {column!r} is in no file ({names})")


def _dtype_finding(column: str, family: str, files: dict[str, _File]) -> DataFinding:
    rule = f"columns.{column}"
    held = _holding(column, files)
    if not held:
        return _missing(rule, column, files)
    wrong = [
        f"{c.family} in {rel}"
        for rel, c in held.items()
        if c.family != "empty" and c.family not in _ACCEPTS[family]
    ]
    if wrong:
        return DataFinding(
            rule, False, f"column {column!r} is {', '.join(wrong)}; expected {family}"
        )
    return DataFinding(rule, True, f"column {column!r} is {family} in {', '.join(held)}")


def _null_finding(column: str, files: dict[str, _File]) -> DataFinding:
    rule = f"not_null.{column}"
    held = _holding(column, files)
    if not held:
        return _missing(rule, column, files)
    bad = [f"{_count(c.nulls, 'null')} in {rel}" for rel, c in held.items() if c.nulls]
    if bad:
        return DataFinding(rule, False, f"column {column!r}: {', '.join(bad)}")
    return DataFinding(rule, True, f"column {column!r}: no nulls in {', '.join(held)}")


def _range_finding(
    column: str, bounds: tuple[float | None, float | None], files: dict[str, _File]
) -> DataFinding:
    rule = f"ranges.{column}"
    held = _holding(column, files)
    if not held:
        return _missing(rule, column, files)
    low, high = bounds
    wanted = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
    bad: list[str] = []
    for rel, c in held.items():
        parts = []
        if c.below and low is not None:
            parts.append(f"{_count(c.below, 'value')} below {low:g}")
        if c.above and high is not None:
            parts.append(f"{_count(c.above, 'value')} above {high:g}")
        if c.not_numbers:
            parts.append(f"{_count(c.not_numbers, 'value')} not a number")
        if parts:
            seen = ""
            if c.low is not None and c.high is not None:
                seen = f" (seen {c.low:g} to {c.high:g})"
            bad.append(f"{' and '.join(parts)} in {rel}{seen}")
    if bad:
        return DataFinding(rule, False, f"column {column!r} outside {wanted}: {'; '.join(bad)}")
    return DataFinding(rule, True, f"column {column!r} within {wanted} in {', '.join(held)}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- reading ------------------------------------------------------------------------


def _tabular_files(root: Path) -> list[tuple[str, Path]]:
    if root.is_file():
        return [(root.name, root)] if is_tabular(root.name) else []
    if not root.is_dir():
        return []
    out: list[tuple[str, Path]] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and is_tabular(rel) and not any(p.startswith(".") for p in path.parts):
            out.append((rel, path))
    return out


def _is_parquet(rel: str) -> bool:
    return rel.lower().endswith((".parquet", ".pq"))


def _measure(column: _Column, number: float, bounds: tuple[float | None, float | None]) -> None:
    if math.isnan(number):
        column.not_numbers += 1
        return
    column.seen(number)
    low, high = bounds
    if low is not None and number < low:
        column.below += 1
    if high is not None and number > high:
        column.above += 1


def _measure_array(column: _Column, values: Any, bounds: tuple[float | None, float | None]) -> None:
    """:func:`_measure` over a numpy array at once (Parquet columns)."""
    import numpy as np

    numbers: npt.NDArray[np.float64] = np.asarray(values, dtype=np.float64)
    nan = np.isnan(numbers)
    column.not_numbers += int(nan.sum())
    numbers = numbers[~nan]
    if len(numbers) == 0:
        return
    column.seen(float(numbers.min()))
    column.seen(float(numbers.max()))
    low, high = bounds
    if low is not None:
        column.below += int((numbers < low).sum())
    if high is not None:
        column.above += int((numbers > high).sum())


def _csv(path: Path, wanted: set[str], rules: DataRules) -> _File:
    out = _File()
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            delimiter = "\t" if path.name.lower().endswith(".tsv") else _sniff(fh)
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, [])
            index = {name: i for i, name in enumerate(header) if name in wanted}
            out.columns = {name: _Column() for name in index}
            for row in reader:
                if not row:
                    continue
                out.rows += 1
                for name, i in index.items():
                    _csv_value(out.columns[name], row[i] if i < len(row) else "", name, rules)
    except UnicodeDecodeError as exc:
        return _File(error=f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except (csv.Error, OSError) as exc:
        return _File(error=str(exc))
    for c in out.columns.values():
        if c.family == "string" and c.dates:
            c.family = "datetime"
    return out


def _csv_value(column: _Column, value: str, name: str, rules: DataRules) -> None:
    if not value:
        column.nulls += 1
        return
    value = value.strip()
    if column.family != "string":
        column.family = widen(column.family, classify(value))
    if column.dates and column.family == "string":
        column.dates = _is_datetime(value)
    if name in rules.ranges:
        try:
            number = float(value)
        except ValueError:
            column.not_numbers += 1
            return
        _measure(column, number, rules.ranges[name])


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _sniff(fh: TextIO) -> str:
    sample = fh.read(_SNIFF_BYTES)
    fh.seek(0)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _parquet(path: Path, wanted: set[str], rules: DataRules) -> _File:
    try:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        return _File(error="install pyarrow to check Parquet files (pip install pyarrow)")
    try:
        meta = pq.ParquetFile(path)
        present = [f.name for f in meta.schema_arrow if f.name in wanted]
        table = pq.read_table(path, columns=present)
    except Exception as exc:  # pyarrow raises many kinds for a bad file
        return _File(error=f"not a readable Parquet file: {exc}")
    out = _File(rows=int(meta.metadata.num_rows))
    for name in present:
        array = table.column(name)
        column = _Column(family=dtype_family(str(array.type)), nulls=int(array.null_count))
        if len(array) == column.nulls:
            column.family = "empty"
        out.columns[name] = column
        if name not in rules.ranges:
            continue
        values = array.drop_null()
        if column.family not in ("int", "float"):
            column.not_numbers = len(values)
            continue
        _measure_array(column, pc.cast(values, "double").to_numpy(), rules.ranges[name])
    return out
