"""For in-process kernel tests that log metrics: a managed run, what it logged, and the
plain numbers that every metric path takes (tracking, fingerprints, pipelines)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from mlops_kernel import runfiles, tracking

NUMBERS_AS_METRICS: list[tuple[object, float]] = [
    (3, 3.0),
    (2.5, 2.5),
    (np.float32(0.5), 0.5),
    (np.int64(7), 7.0),
    (np.array(1.25), 1.25),
]
"""Python and NumPy scalars (and a 0-d array) with the float each is logged as."""


@contextmanager
def managed_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A managed run in ``tmp_path``: tracking writes there, never into ~/.mlops.

    The default tracker is reset on entry and exit, so no test sees another's run.
    """
    run = tmp_path / "run"
    monkeypatch.setenv(runfiles.RUN_DIR_ENV, str(run))
    monkeypatch.delenv(runfiles.PARAMS_FILE_ENV, raising=False)
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    tracking.reset()
    try:
        yield run
    finally:
        tracking.reset()


def logged_metrics(run: Path) -> list[tuple[str, float, int]]:
    """``(key, value, step)`` of each metric in ``run``'s metrics file (none without one).

    Reads only what is on disk: flushing first is the caller's choice.
    """
    path = run / runfiles.METRICS_FILE
    lines = path.read_text().splitlines() if path.exists() else []
    return [runfiles.decode_metric(line)[:3] for line in lines]
