"""Experiment tracking for training code: parameters, metrics, tags, artifacts.

Why files and not a server? Training code should not need credentials, a
network, or a database driver to record what it did, and a crash must not lose
what was already recorded. So every call here only writes plain files into the
run directory (the format is fixed in :mod:`mlops_kernel.runfiles`); the daemon
tails those files and ingests them while the run is live.

Typical use inside a training function::

    from mlops_kernel import get_params, log_metric, log_artifact

    lr = get_params().get("lr", 0.01)
    for epoch in range(10):
        log_metric("loss", train_one_epoch(lr))   # step 0, 1, 2, ... per key
    log_artifact("model.pkl")

Inside a managed run (the daemon sets ``$MLOPS_RUN_DIR``) everything lands in
that run's directory. Outside one (a plain notebook or script) the first call
creates ``$MLOPS_HOME/local-runs/<timestamp>-<id>/`` (``MLOPS_HOME`` defaults to
``~/.mlops``) and says so once on stderr: nothing is lost, nothing is mixed up.

Metrics are buffered and appended in whole lines at most every 0.5 s (or per
1000 lines), from a background thread too, at exit and on SIGTERM: logging a
metric costs microseconds, not a system call.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import operator
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, SupportsIndex

from mlops_kernel import runfiles

MAX_KEY_LENGTH = 250
FLUSH_LINES = 1000
FLUSH_INTERVAL_S = 0.5

JsonScalar = str | int | float | bool | None

_ACCEPTED = "int, float, a numpy scalar, or a 0-d array/tensor (anything with __float__)"


def _check_key(key: object, what: str) -> str:
    """Keys name columns in the UI and the database: short, non-empty strings."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what} key must be a non-empty str, got {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"{what} key is {len(key)} chars long; the limit is {MAX_KEY_LENGTH}")
    return key


def _metric_value(key: str, value: object) -> float:
    """A metric value as a float; strings and booleans are refused, not coerced."""
    wrong = f"metric {key!r}: value must be {_ACCEPTED}; got {type(value).__name__}"
    if isinstance(value, str | bytes | bool) or is_bool_like(value):
        raise TypeError(f"{wrong} {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(wrong) from exc
    except OverflowError as exc:
        raise ValueError(f"metric {key!r}: {value!r} does not fit in a float") from exc


def is_bool_like(value: object) -> bool:
    """A numpy bool scalar or boolean array: refused as a metric, like ``bool``."""
    dtype = getattr(value, "dtype", None)
    return getattr(dtype, "kind", None) == "b"


def _step(value: SupportsIndex) -> int:
    if isinstance(value, bool):
        raise TypeError("step must be an int, got bool")
    try:
        step = operator.index(value)  # int, numpy integers
    except TypeError as exc:
        raise TypeError(f"step must be an int, got {type(value).__name__}") from exc
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return step


def _param_value(value: object) -> JsonScalar:
    """JSON scalars as is, numpy scalars as Python scalars, anything else as str.

    Non-finite floats become strings ("nan", "inf") so params.json stays strict JSON.
    """
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()  # type: ignore[attr-defined]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _artifact_name(name: str) -> Path:
    rel = Path(name)
    if not name or rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"artifact name must be a relative path inside artifacts/, got {name!r}")
    return rel


class Tracker:
    """Writes one run's parameters, metrics, tags and artifacts into ``run_dir``.

    Most code uses the module-level functions, which share one default tracker;
    create a ``Tracker`` to log into a directory of your choice. Thread-safe and
    fork-safe (a forked child starts with an empty buffer: no line is written twice).
    The run's initial params are read from ``params_file`` (default
    ``run_dir/params.json``); the merged params are written to ``run_dir/params.json``.
    """

    def __init__(self, run_dir: str | os.PathLike[str], *, params_file: Path | None = None):
        self._dir = Path(run_dir)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._params_source = params_file or self._dir / runfiles.PARAMS_FILE
        self._lock = threading.RLock()  # re-entrant: the SIGTERM handler may interrupt a call
        self._params: dict[str, Any] | None = None
        self._tags: dict[str, Any] | None = None
        self._steps: dict[str, int] = {}
        self._pending: list[str] = []
        self._last_flush = time.time()
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        _install_process_hooks()
        _LIVE.add(self)

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def run_dir(self) -> Path:
        """The directory this tracker writes into."""
        return self._dir

    def log_metric(self, key: str, value: object, step: SupportsIndex | None = None) -> None:
        """Record one point of a time series, e.g. the loss after an epoch.

        Without ``step`` the step counts up per key from 0 (and continues from
        ``s + 1`` after an explicit step ``s``), so a loop needs no counter.
        """
        with self._lock:
            self._append(key, value, step, time.time())

    def log_metrics(self, metrics: Mapping[str, object], step: SupportsIndex | None = None) -> None:
        """Record several metrics at once; each key keeps its own step counter."""
        with self._lock:
            now = time.time()
            for key, value in metrics.items():
                self._append(key, value, step, now)

    def _append(self, key: str, value: object, step: SupportsIndex | None, now: float) -> None:
        if key not in self._steps:
            _check_key(key, "metric")
        if type(value) is not float:
            value = _metric_value(key, value)
        step = self._steps.get(key, 0) if step is None else _step(step)
        self._steps[key] = step + 1
        self._pending.append(runfiles.encode_metric(key, value, step, int(now * 1000)))
        if self._thread is None:
            self._start_flusher()
        if len(self._pending) >= FLUSH_LINES or now - self._last_flush >= FLUSH_INTERVAL_S:
            self._flush_locked(now)

    def flush(self) -> None:
        """Write buffered metric lines now (one ``os.write`` of whole lines)."""
        with self._lock:
            self._flush_locked(time.time())

    def _flush_locked(self, now: float) -> None:
        self._last_flush = now
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        data = memoryview("".join(lines).encode("utf-8"))
        if self._fd is None:
            path = self._dir / runfiles.METRICS_FILE
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
            self._fd = os.open(path, flags, 0o644)
        while data:  # a regular file takes it all at once; loop only for safety
            written = os.write(self._fd, data)
            data = data[written:]

    def _start_flusher(self) -> None:
        """A daemon thread, so a metric logged before a long pause still shows up live."""
        self._thread = threading.Thread(
            target=_flusher_loop,
            args=(weakref.ref(self), self._stop),
            name="mlops-metrics-flusher",
            daemon=True,
        )
        self._thread.start()

    def log_param(self, key: str, value: object) -> None:
        """Record one input of the run (a hyperparameter, a data version, ...)."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        """Record several parameters; params.json is rewritten atomically, merged."""
        clean = {_check_key(k, "param"): _param_value(v) for k, v in params.items()}
        with self._lock:
            merged = self._load_params()
            merged.update(clean)
            runfiles.write_json_atomic(self._dir / runfiles.PARAMS_FILE, merged)

    def get_params(self) -> dict[str, Any]:
        """The run's parameters: those the run was started with, plus those logged."""
        with self._lock:
            return dict(self._load_params())

    def _load_params(self) -> dict[str, Any]:
        if self._params is None:
            self._params = _read_dict(self._params_source)
        return self._params

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Label the run (e.g. ``{"dataset": "v2"}``); values are stored as str."""
        clean = {_check_key(k, "tag"): str(v) for k, v in tags.items()}
        with self._lock:
            if self._tags is None:
                self._tags = _read_dict(self._dir / runfiles.TAGS_FILE)
            self._tags.update(clean)
            runfiles.write_json_atomic(self._dir / runfiles.TAGS_FILE, self._tags)

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> Path:
        """Copy a file or a directory tree into ``artifacts/[name]``; returns the copy's path.

        Files are copied under a temporary name and renamed, so the daemon never
        picks up half a model file.
        """
        src = Path(path)
        if not src.exists():
            raise FileNotFoundError(f"artifact source does not exist: {src}")
        dest = self._dir / runfiles.ARTIFACTS_DIR / _artifact_name(name or src.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            _copy_tree(src, dest)
        else:
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
            shutil.copy2(src, tmp)
            os.replace(tmp, dest)
        return dest

    def close(self) -> None:
        """Flush, stop the background thread and close the metrics file.

        The tracker stays usable: a later call reopens the file and restarts the thread.
        """
        with self._lock:
            self._stop.set()
            self._thread, self._stop = None, threading.Event()
            try:
                self._flush_locked(time.time())
            finally:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None

    def _after_fork_in_child(self) -> None:
        """Keep params, steps and the O_APPEND fd; drop the parent's lines, lock and thread."""
        self._lock = threading.RLock()
        self._pending = []
        self._last_flush = time.time()
        self._thread, self._stop = None, threading.Event()


def _read_dict(path: Path) -> dict[str, Any]:
    data = runfiles.read_json(path)
    return dict(data) if isinstance(data, dict) else {}


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy a directory; a new destination appears at once (copy aside, then rename)."""
    if dest.exists():
        shutil.copytree(src, dest, dirs_exist_ok=True)
        return
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    os.replace(tmp, dest)


def _flusher_loop(ref: weakref.ref[Tracker], stop: threading.Event) -> None:
    while not stop.wait(FLUSH_INTERVAL_S):
        tracker = ref()
        if tracker is None:
            return
        try:
            tracker.flush()
        except Exception as exc:  # the disk is full, the run dir was removed, ...
            _warn(f"could not write metrics: {exc}")
            return
        del tracker


def _warn(message: str) -> None:
    with contextlib.suppress(Exception):  # stderr may be closed at exit
        print(f"mlops: {message}", file=sys.stderr, flush=True)


_LIVE: weakref.WeakSet[Tracker] = weakref.WeakSet()
_hooks_installed = False


def _install_process_hooks() -> None:
    """Flush at exit, on SIGTERM, and give forked children a clean buffer (once)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_flush_all)
    os.register_at_fork(after_in_child=_after_fork_in_child)
    in_main_thread = threading.current_thread() is threading.main_thread()
    with contextlib.suppress(ValueError):  # ValueError: not the main interpreter
        if in_main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)


def _flush_all() -> None:
    for tracker in list(_LIVE):
        try:
            tracker.flush()
        except Exception as exc:
            _warn(f"could not write metrics: {exc}")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Flush, then die of SIGTERM as if we had never caught it."""
    _flush_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _after_fork_in_child() -> None:
    global _default_lock
    _default_lock = threading.Lock()
    for tracker in list(_LIVE):
        tracker._after_fork_in_child()


_default: Tracker | None = None
_default_lock = threading.Lock()


def _tracker() -> Tracker:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = _make_default()
    return _default


def _make_default() -> Tracker:
    managed = os.environ.get(runfiles.RUN_DIR_ENV)
    if managed:
        params = os.environ.get(runfiles.PARAMS_FILE_ENV)
        return Tracker(managed, params_file=Path(params) if params else None)
    home = Path(os.environ.get("MLOPS_HOME") or Path.home() / ".mlops").expanduser()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = home / "local-runs" / f"{stamp}-{secrets.token_hex(3)}"
    tracker = Tracker(path)
    _warn(f"not inside a managed run (${runfiles.RUN_DIR_ENV} is unset); logging to {path}")
    return tracker


def reset() -> None:
    """Flush and forget the default tracker; the next call reads the environment again.

    Useful in tests, or in a notebook to start a fresh local run.
    """
    global _default
    with _default_lock:
        tracker, _default = _default, None
    if tracker is not None:
        tracker.close()


def log_param(key: str, value: object) -> None:
    """Record one input of the run, e.g. ``log_param("lr", 0.01)``."""
    _tracker().log_param(key, value)


def log_params(params: Mapping[str, object]) -> None:
    """Record several inputs of the run at once."""
    _tracker().log_params(params)


def log_metric(key: str, value: object, step: SupportsIndex | None = None) -> None:
    """Record one point of a time series; ``step`` counts up per key when omitted."""
    _tracker().log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, object], step: SupportsIndex | None = None) -> None:
    """Record several metrics at once."""
    _tracker().log_metrics(metrics, step)


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> Path:
    """Keep a file or directory (a model, a plot) with the run; returns the copy's path."""
    return _tracker().log_artifact(path, name)


def set_tags(tags: Mapping[str, object]) -> None:
    """Label the run; values are stored as strings."""
    _tracker().set_tags(tags)


def get_params() -> dict[str, Any]:
    """The run's parameters: what it was started with, merged with what was logged."""
    return _tracker().get_params()


def run_dir() -> Path:
    """The directory this process logs into (a managed run's, or a local run's)."""
    return _tracker().run_dir


def flush() -> None:
    """Write buffered metrics now. Rarely needed: it happens on its own within 0.5 s."""
    tracker = _default
    if tracker is not None:
        tracker.flush()
