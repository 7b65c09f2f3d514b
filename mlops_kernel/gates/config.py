"""The ``[gates]`` table of a project's ``mlops.toml``: what a run must show before promotion.

Only ``[gates]`` is read (other tables such as ``[docker]`` belong to others). A project
without the file, or a file without ``[gates]``, gets :func:`default_gates`: its tests must
pass and every logged model must be a valid ONNX file. Everything accepted::

    [gates]
    metrics = ["accuracy >= 0.9", "rmse <= 3.0"]      # logged metric OP number (>=, >, <=, <, ==)
    no_regression = ["accuracy >= production - 0.01"] # metric OP ALIAS [+|- margin]
    tests = true                      # or [gates.tests] paths = ["tests"], timeout_s = 600,
                                      #    enabled = false
    onnx_valid = true
    onnx_parity = 1e-4                # true: 1e-4; or [gates.onnx_parity] tolerance = 1e-4
    reproducible = true               # or [gates.reproducible] rtol = 0.0, atol = 0.0
    advisory = ["fairness"]           # check kinds, or names ("metric:rmse", "fairness[iris]"),
                                      # that report but do not block promotion

    [gates.fairness]
    sensitive = ["sex"]               # a string is accepted too
    max_demographic_parity_difference = 0.1         # at least one of the two bounds,
    max_equalized_odds_difference = 0.1             # each between 0 and 1
    positive_label = 1                # optional; default: the largest label

    [gates.data.iris]                 # a dataset name the run uses
    columns = { sepal_length = "float", species = "string" }
    not_null = ["sepal_length"]
    ranges = { sepal_length = [0, 10] }   # [min, max], or a table {min = 0} / {max = 10}
    min_rows = 100

Dtype families are those the dataset schema records (``int``, ``float``, ``bool``,
``string``) plus ``datetime``; Parquet's Arrow types are mapped onto them (see
:mod:`mlops_kernel.gates.data_checks`).

Every mistake is a :class:`GateConfigError` naming the file, the line, the key and what to
write instead. Unknown keys are errors, with the closest known key suggested: a typo must
never silently switch a gate off.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from mlops_kernel.schemas import DATASET_NAME

from .config_lines import PathKey
from .expressions import metric_rule, regression_rule
from .reader import Reader
from .rules import (
    CHECK_KINDS,
    DEFAULT_PARITY_TOLERANCE,
    DEFAULT_TESTS_TIMEOUT_S,
    DataRules,
    FairnessRule,
    GateConfig,
    GateConfigError,
    MetricRule,
    RegressionRule,
    ReproducibleRule,
    TestsRule,
    default_gates,
)

FILE_NAME = "mlops.toml"
FAMILIES = ("int", "float", "bool", "string", "datetime")
GATES_KEYS = (
    "tests",
    "onnx_valid",
    "metrics",
    "no_regression",
    "data",
    "fairness",
    "onnx_parity",
    "reproducible",
    "advisory",
)
_DATASET = re.compile(rf"^{DATASET_NAME}$")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")

__all__ = ["load_gates", "parse_gates"]


def load_gates(project: Path) -> GateConfig:
    """The gates of ``project`` (its ``mlops.toml``); the defaults when it has none."""
    path = project / FILE_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return default_gates()
    except OSError as exc:
        raise GateConfigError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GateConfigError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    return parse_gates(text, path)


def parse_gates(text: str, source: Path | None = None) -> GateConfig:
    """The ``[gates]`` table of a whole ``mlops.toml`` text (defaults when it has none)."""
    name = source.name if source is not None else FILE_NAME
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_LINE.search(message)
        line = int(found.group(1)) if found else None
        if line is None and "(at end of document)" in message:
            line = max(1, len(text.splitlines()))
        where = f"{name} line {line}" if line is not None else name
        detail = _TOML_LINE.sub("", message).replace("(at end of document)", "").strip()
        raise GateConfigError(
            f"{where}: not valid TOML: {detail}; fix the syntax there", line=line
        ) from None
    if "gates" not in data:
        return GateConfig(source=source)
    reader = Reader(text, source)
    gates = reader.table(data["gates"], ("gates",), "[gates] followed by key = value lines")
    reader.known_keys(gates, ("gates",), GATES_KEYS)
    return GateConfig(
        source=source,
        tests=_tests(reader, gates.get("tests", True)),
        onnx_valid=reader.boolean(gates.get("onnx_valid", True), ("gates", "onnx_valid")),
        metrics=_metrics(reader, gates.get("metrics", [])),
        no_regression=_regressions(reader, gates.get("no_regression", [])),
        data=_data(reader, gates.get("data", {})),
        fairness=_fairness(reader, gates["fairness"]) if "fairness" in gates else None,
        onnx_parity=_parity(reader, gates.get("onnx_parity", False)),
        reproducible=_reproducible(reader, gates.get("reproducible", False)),
        advisory=_advisory(reader, gates.get("advisory", [])),
    )


# -- sections -----------------------------------------------------------------------


def _tests(reader: Reader, value: Any) -> TestsRule:
    path: PathKey = ("gates", "tests")
    if isinstance(value, bool):
        return TestsRule(enabled=value)
    table = reader.table(value, path, 'tests = true, or [gates.tests] paths = ["tests"]')
    reader.known_keys(table, path, ("enabled", "paths", "timeout_s"))
    paths = None
    if "paths" in table:
        paths = reader.strings(table["paths"], (*path, "paths"), '["tests"]')
    timeout = DEFAULT_TESTS_TIMEOUT_S
    if "timeout_s" in table:
        timeout = reader.number(table["timeout_s"], (*path, "timeout_s"), positive=True)
    enabled = reader.boolean(table.get("enabled", True), (*path, "enabled"))
    return TestsRule(enabled=enabled, paths=paths, timeout_s=timeout)


def _expressions(reader: Reader, value: Any, key: str, example: str) -> list[tuple[str, PathKey]]:
    path: PathKey = ("gates", key)
    if isinstance(value, str):
        return [(value, path)]
    if not isinstance(value, list):
        raise reader.error(path, f"must be a list of strings, like {key} = [{example!r}]")
    out: list[tuple[str, PathKey]] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise reader.error((*path, i), f"must be a string, like {example!r}")
        out.append((item, (*path, i)))
    return out


def _metrics(reader: Reader, value: Any) -> tuple[MetricRule, ...]:
    items = _expressions(reader, value, "metrics", "accuracy >= 0.9")
    return tuple(metric_rule(reader, text, path) for text, path in items)


def _regressions(reader: Reader, value: Any) -> tuple[RegressionRule, ...]:
    items = _expressions(reader, value, "no_regression", "accuracy >= production - 0.01")
    return tuple(regression_rule(reader, text, path) for text, path in items)


def _parity(reader: Reader, value: Any) -> float | None:
    path: PathKey = ("gates", "onnx_parity")
    if isinstance(value, bool):
        return DEFAULT_PARITY_TOLERANCE if value else None
    if isinstance(value, dict):
        reader.known_keys(value, path, ("tolerance",))
        if "tolerance" not in value:
            raise reader.error(path, "needs a tolerance, like tolerance = 1e-4")
        return reader.number(value["tolerance"], (*path, "tolerance"), minimum=0.0)
    if isinstance(value, int | float):
        return reader.number(value, path, minimum=0.0)
    raise reader.error(path, "must be a tolerance like 1e-4, true (1e-4) or false")


def _reproducible(reader: Reader, value: Any) -> ReproducibleRule | None:
    path: PathKey = ("gates", "reproducible")
    if isinstance(value, bool):
        return ReproducibleRule() if value else None
    table = reader.table(value, path, "reproducible = true, or [gates.reproducible] rtol = 0.0")
    reader.known_keys(table, path, ("rtol", "atol"))
    rtol = reader.number(table.get("rtol", 0.0), (*path, "rtol"), minimum=0.0)
    atol = reader.number(table.get("atol", 0.0), (*path, "atol"), minimum=0.0)
    return ReproducibleRule(rtol=rtol, atol=atol)


def _advisory(reader: Reader, value: Any) -> frozenset[str]:
    path: PathKey = ("gates", "advisory")
    if isinstance(value, list) and not value:
        return frozenset()
    names = reader.strings(value, path, '["fairness", "metric:rmse"]')
    for i, name in enumerate(names):
        kind = re.split(r"[:\[]", name, maxsplit=1)[0]
        if kind in CHECK_KINDS:
            continue
        item: PathKey = path if isinstance(value, str) else (*path, i)
        close = difflib.get_close_matches(kind, CHECK_KINDS, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "use one of " + ", ".join(CHECK_KINDS)
        raise reader.error(
            item,
            f"{name!r} is not a check kind (or a check name such as 'metric:rmse' or "
            f"'fairness[model]'); {hint}",
        )
    return frozenset(names)


def _fairness(reader: Reader, value: Any) -> FairnessRule:
    path: PathKey = ("gates", "fairness")
    table = reader.table(value, path, '[gates.fairness] sensitive = ["sex"]')
    dpd_key, eod_key = "max_demographic_parity_difference", "max_equalized_odds_difference"
    reader.known_keys(table, path, ("sensitive", dpd_key, eod_key, "positive_label"))
    if "sensitive" not in table:
        raise reader.error(path, 'needs the sensitive columns, like sensitive = ["sex"]')
    sensitive = reader.strings(table["sensitive"], (*path, "sensitive"), '["sex"]')
    bounds: dict[str, float | None] = {}
    for key in (dpd_key, eod_key):
        bounds[key] = None
        if key in table:
            bounds[key] = reader.number(table[key], (*path, key), minimum=0.0, maximum=1.0)
    if bounds[dpd_key] is None and bounds[eod_key] is None:
        raise reader.error(
            path, f"sets no bound, so it checks nothing; add {dpd_key} = 0.1 (or {eod_key})"
        )
    label = table.get("positive_label")
    if label is not None and (
        not isinstance(label, str | int | float) or (isinstance(label, float) and math.isnan(label))
    ):
        raise reader.error((*path, "positive_label"), 'must be a label such as 1 or "yes"')
    return FairnessRule(
        sensitive=sensitive,
        max_demographic_parity_difference=bounds[dpd_key],
        max_equalized_odds_difference=bounds[eod_key],
        positive_label=label,
    )


def _data(reader: Reader, value: Any) -> tuple[DataRules, ...]:
    path: PathKey = ("gates", "data")
    table = reader.table(value, path, "[gates.data.DATASET] with columns, not_null, ...")
    return tuple(_dataset(reader, name, rules) for name, rules in table.items())


def _dataset(reader: Reader, name: str, value: Any) -> DataRules:
    path: PathKey = ("gates", "data", name)
    if not _DATASET.match(name):
        raise reader.error(path, f"{name!r} is not a dataset name (letters, digits, '.', '_', '-')")
    table = reader.table(value, path, f"[gates.data.{name}] min_rows = 100")
    reader.known_keys(table, path, ("columns", "not_null", "ranges", "min_rows"))
    if not table:
        raise reader.error(path, "has no rules, so it checks nothing; add e.g. min_rows = 1")
    columns: dict[str, str] = {}
    if "columns" in table:
        cols = reader.table(table["columns"], (*path, "columns"), '{ age = "int" }')
        for column, family in cols.items():
            columns[column] = _family(reader, family, (*path, "columns", column))
    not_null: tuple[str, ...] = ()
    if "not_null" in table:
        not_null = reader.strings(table["not_null"], (*path, "not_null"), '["age"]')
    ranges: dict[str, tuple[float | None, float | None]] = {}
    if "ranges" in table:
        spec = reader.table(table["ranges"], (*path, "ranges"), "{ age = [0, 120] }")
        for column, bounds in spec.items():
            ranges[column] = _range(reader, bounds, (*path, "ranges", column))
    min_rows = None
    if "min_rows" in table:
        min_rows = reader.integer(table["min_rows"], (*path, "min_rows"))
    return DataRules(
        dataset=name, columns=columns, not_null=not_null, ranges=ranges, min_rows=min_rows
    )


def _family(reader: Reader, value: Any, path: PathKey) -> str:
    if isinstance(value, str) and value.strip().lower() in FAMILIES:
        return value.strip().lower()
    close = difflib.get_close_matches(str(value).lower(), FAMILIES, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise reader.error(
        path, f"{value!r} is not a dtype family; {hint}use one of {', '.join(FAMILIES)}"
    )


def _range(reader: Reader, value: Any, path: PathKey) -> tuple[float | None, float | None]:
    example = "[0, 120], or a table {min = 0} / {max = 120}"
    low: float | None
    high: float | None
    if isinstance(value, list):
        if len(value) != 2:
            raise reader.error(path, f"must be [min, max] (two numbers), like {example}")
        low = reader.number(value[0], (*path, 0))
        high = reader.number(value[1], (*path, 1))
    elif isinstance(value, dict):
        reader.known_keys(value, path, ("min", "max"))
        if not value:
            raise reader.error(path, f"sets neither min nor max; write it like {example}")
        low = reader.number(value["min"], (*path, "min")) if "min" in value else None
        high = reader.number(value["max"], (*path, "max")) if "max" in value else None
    else:
        raise reader.error(path, f"must be a range like {example}")
    if low is not None and high is not None and low > high:
        raise reader.error(path, f"min {low:g} is greater than max {high:g}; swap them")
    return (low, high)
