"""The run directory contract between training code and the daemon.

Training code never talks to the database. Inside a run it writes plain files
under ``$MLOPS_RUN_DIR``; the daemon tails and ingests them. Both sides import
the names and the record format from here, so they cannot drift apart.

Layout of a run directory::

    spec.json        the RunSpec the daemon accepted (written by the daemon)
    params.json      the run's parameters: the spec's, then whatever code logs
    tags.json        tags set by the code (``set_tags``)
    metrics.jsonl    one JSON object per line: {"k": key, "v": value, "s": step, "t": ms}
    artifacts/       files logged with ``log_artifact``
    output.log       the process's stdout and stderr, interleaved
    supervisor.json  pids of the supervising process and the run's process group
    exit.json        how the run ended, written once, atomically, by the supervisor
    work/            the run's own fresh working directory
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

RUN_DIR_ENV = "MLOPS_RUN_DIR"
PARAMS_FILE_ENV = "MLOPS_PARAMS_FILE"
RUN_ID_ENV = "MLOPS_RUN_ID"

SPEC_FILE = "spec.json"
PARAMS_FILE = "params.json"
TAGS_FILE = "tags.json"
METRICS_FILE = "metrics.jsonl"
ARTIFACTS_DIR = "artifacts"
LOG_FILE = "output.log"
SUPERVISOR_FILE = "supervisor.json"
EXIT_FILE = "exit.json"
WORK_DIR = "work"


# json.dumps(..., separators=...) builds a new encoder on every call, which used
# to be most of the cost of logging a metric: share one, and format the common
# case (str key, finite float, int step and time) directly, byte for byte as
# json.dumps would (it also writes floats with float.__repr__).
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
_json_str = json.encoder.encode_basestring_ascii


def encode_metric(key: str, value: float, step: int, time_ms: int) -> str:
    """One metric point as a JSON line (with its trailing newline).

    Non-finite values are written as the strings "NaN", "Infinity", "-Infinity"
    so that every line is strict JSON.
    """
    if (
        type(key) is str
        and type(value) is float
        and type(step) is int
        and type(time_ms) is int
        and math.isfinite(value)
    ):
        return f'{{"k":{_json_str(key)},"v":{float.__repr__(value)},"s":{step},"t":{time_ms}}}\n'
    v: float | str = value
    if not math.isfinite(value):
        v = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return _COMPACT_JSON.encode({"k": key, "v": v, "s": step, "t": time_ms}) + "\n"


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode_metric(line: str | bytes) -> tuple[str, float, int, int]:
    """Parse one metric line. Raises ValueError for anything malformed."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ValueError("a metric line must be a JSON object")
    try:
        key, raw, step, t = obj["k"], obj["v"], obj["s"], obj["t"]
    except KeyError as exc:
        raise ValueError(f"missing field {exc}") from exc
    if not isinstance(key, str) or not key:
        raise ValueError("metric key must be a non-empty string")
    if isinstance(raw, str):
        if raw not in _NON_FINITE:
            raise ValueError(f"metric value {raw!r} is not a number")
        value = _NON_FINITE[raw]
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError("metric value must be a number")
    else:
        value = float(raw)
    if isinstance(step, bool) or not isinstance(step, int):
        raise ValueError("metric step must be an integer")
    if isinstance(t, bool) or not isinstance(t, int | float):
        raise ValueError("metric time must be a number")
    return key, value, step, int(t)


def decode_metrics(data: bytes) -> tuple[list[tuple[str, float, int, int]], list[str]]:
    """Parse a block of complete metric lines: (points, problems with the bad lines).

    The common case — every line well-formed — is parsed with one ``json.loads``
    over the whole block, several times faster than a call per line; anything
    unusual falls back to checking line by line, so one bad line costs only itself.
    """
    try:
        objs = json.loads(b"[" + data.strip().replace(b"\n", b",") + b"]")
        quick = [(o["k"], o["v"], o["s"], o["t"]) for o in objs]
        if all(map(_common_shape, quick)):
            return quick, []
        return [_fast_point(obj) for obj in objs], []
    except (ValueError, TypeError, KeyError):
        pass
    points: list[tuple[str, float, int, int]] = []
    problems: list[str] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            points.append(decode_metric(line))
        except ValueError as exc:
            problems.append(str(exc))
    return points, problems


def _common_shape(p: tuple[Any, Any, Any, Any]) -> bool:
    """Exactly what the tracker writes for a finite value (anything else: the careful path)."""
    return (
        type(p[0]) is str
        and p[0] != ""
        and type(p[1]) is float
        and type(p[2]) is int
        and type(p[3]) is int
    )


def _fast_point(obj: Any) -> tuple[str, float, int, int]:
    """The strict shape the tracker writes; anything else raises (and takes the slow path)."""
    key, value, step, t = obj["k"], obj["v"], obj["s"], obj["t"]
    if type(key) is not str or not key or type(step) is not int or type(t) is not int:
        raise TypeError("not the common shape")
    if type(value) is float or type(value) is int:
        return key, float(value), step, t
    return key, _NON_FINITE[value], step, t  # KeyError (slow path) unless NaN/±Infinity


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any | None:
    """The JSON content of ``path``, or None where it is missing or half-written."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
