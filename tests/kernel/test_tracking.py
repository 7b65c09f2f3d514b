"""The tracking API: files written into the run directory, buffering, exit paths."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.metrics import NUMBERS_AS_METRICS

import mlops_kernel
from mlops_kernel import runfiles, tracking
from mlops_kernel.tracking import Tracker

PACKAGE_ROOT = Path(mlops_kernel.__file__).resolve().parent.parent
WAIT_S = 30.0  # upper bound for anything awaited from a subprocess


# --------------------------------------------------------------------------- helpers


def read_metrics(run: Path) -> list[tuple[str, float, int, int]]:
    path = run / runfiles.METRICS_FILE
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "a flush must only write whole lines"
    return [runfiles.decode_metric(line) for line in text.splitlines()]


def steps_of(run: Path, key: str) -> list[int]:
    return [s for k, _, s, _ in read_metrics(run) if k == key]


def subprocess_env(run: Path | None, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    env["MLOPS_HOME"] = str(home)
    if run is not None:
        env[runfiles.RUN_DIR_ENV] = str(run)
    return env


def start_script(code: str, run: Path | None, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=subprocess_env(run, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_S}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def fresh_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No managed run, MLOPS_HOME in tmp, and a default tracker made afresh."""
    for name in (runfiles.RUN_DIR_ENV, runfiles.PARAMS_FILE_ENV, runfiles.RUN_ID_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    tracking.reset()
    yield tmp_path
    tracking.reset()


@pytest.fixture
def no_time_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the 1000-line threshold (or an explicit flush) writes metrics."""
    monkeypatch.setattr(tracking, "FLUSH_INTERVAL_S", 3600.0)


# --------------------------------------------------------------------------- default tracker


def test_managed_run_writes_into_run_dir(
    fresh_default: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = fresh_default / "run"
    monkeypatch.setenv(runfiles.RUN_DIR_ENV, str(run))
    before = int(time.time() * 1000)
    tracking.log_param("lr", 0.1)
    tracking.log_metric("loss", 1.5)
    tracking.set_tags({"team": "vision"})
    tracking.flush()
    after = int(time.time() * 1000)
    assert tracking.run_dir() == run
    assert runfiles.read_json(run / runfiles.PARAMS_FILE) == {"lr": 0.1}
    assert runfiles.read_json(run / runfiles.TAGS_FILE) == {"team": "vision"}
    [(key, value, step, t)] = read_metrics(run)
    assert (key, value, step) == ("loss", 1.5, 0)
    assert before <= t <= after  # ms since the epoch
    assert not (fresh_default / "home").exists()


def test_params_file_env_is_read(fresh_default: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, spec_params = fresh_default / "run", fresh_default / "given.json"
    spec_params.write_text(json.dumps({"lr": 0.3}))
    monkeypatch.setenv(runfiles.RUN_DIR_ENV, str(run))
    monkeypatch.setenv(runfiles.PARAMS_FILE_ENV, str(spec_params))
    assert tracking.get_params() == {"lr": 0.3}
    tracking.log_param("seed", 1)
    assert runfiles.read_json(run / runfiles.PARAMS_FILE) == {"lr": 0.3, "seed": 1}


def test_outside_a_run_logs_to_a_local_run_and_says_so_once(
    fresh_default: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracking.log_metric("loss", 1.0)
    tracking.log_param("lr", 0.1)
    path = tracking.run_dir()
    tracking.flush()
    assert path.parent == fresh_default / "home" / "local-runs"
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", path.name)
    assert steps_of(path, "loss") == [0]
    err = capsys.readouterr().err
    assert err.count("not inside a managed run") == 1
    assert str(path) in err


def test_package_reexports_the_api() -> None:
    assert mlops_kernel.__version__ == "0.1.0"
    api = "log_param log_params log_metric log_metrics log_artifact set_tags get_params run_dir"
    for name in api.split():
        assert getattr(mlops_kernel, name) is getattr(tracking, name)


# --------------------------------------------------------------------------- metrics


def test_steps_count_up_per_key(tmp_path: Path) -> None:
    with Tracker(tmp_path) as t:
        t.log_metric("a", 1.0)
        t.log_metric("a", 2.0)
        t.log_metric("b", 3.0)
        t.log_metric("a", 4.0, step=10)
        t.log_metric("a", 5.0)
        t.log_metrics({"a": 6.0, "b": 7.0})
        t.log_metrics({"a": 8.0, "b": 9.0}, step=np.int64(20))
    assert steps_of(tmp_path, "a") == [0, 1, 10, 11, 12, 20]
    assert steps_of(tmp_path, "b") == [0, 1, 20]


@pytest.mark.parametrize(
    ("value", "expected"),
    [*NUMBERS_AS_METRICS, (Decimal("0.75"), 0.75), (Fraction(1, 4), 0.25)],
)
def test_accepted_metric_values(tmp_path: Path, value: object, expected: float) -> None:
    with Tracker(tmp_path) as t:
        t.log_metric("m", value)
    assert read_metrics(tmp_path)[0][1] == expected


def test_non_finite_values_are_kept(tmp_path: Path) -> None:
    with Tracker(tmp_path) as t:
        t.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": np.float64(-np.inf)})
    values = {k: v for k, v, _, _ in read_metrics(tmp_path)}
    assert math.isnan(values["nan"])
    assert values["inf"] == math.inf
    assert values["ninf"] == -math.inf


@pytest.mark.parametrize(
    "value", ["1.0", b"1", True, np.bool_(False), None, [1.0], np.array([1.0, 2.0]), object()]
)
def test_rejected_metric_values(tmp_path: Path, value: object) -> None:
    with Tracker(tmp_path) as t, pytest.raises(TypeError, match="int, float"):
        t.log_metric("m", value)


@pytest.mark.parametrize("key", ["", "x" * 251, 5, None])
def test_rejected_keys(tmp_path: Path, key: Any) -> None:
    with Tracker(tmp_path) as t:
        with pytest.raises(ValueError, match="key"):
            t.log_metric(key, 1.0)
        with pytest.raises(ValueError, match="key"):
            t.log_param(key, 1)
        with pytest.raises(ValueError, match="key"):
            t.set_tags({key: "v"})
        t.log_metric("x" * 250, 1.0)  # the limit itself is fine


@pytest.mark.parametrize(("step", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_rejected_steps(tmp_path: Path, step: Any, error: type[Exception]) -> None:
    with Tracker(tmp_path) as t, pytest.raises(error, match="step"):
        t.log_metric("m", 1.0, step=step)


def test_metrics_are_buffered_until_1000_lines(tmp_path: Path, no_time_flush: None) -> None:
    with Tracker(tmp_path) as t:
        for i in range(999):
            t.log_metric("m", float(i))
        assert read_metrics(tmp_path) == []
        t.log_metric("m", 999.0)
        assert steps_of(tmp_path, "m") == list(range(1000))
        t.log_metric("m", 1000.0)
        assert len(read_metrics(tmp_path)) == 1000
        t.flush()
        assert len(read_metrics(tmp_path)) == 1001


def test_metrics_from_many_threads(tmp_path: Path) -> None:
    t = Tracker(tmp_path)

    def work(n: int) -> None:
        for i in range(1000):
            t.log_metric(f"k{n}", float(i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    t.close()
    for n in range(8):
        assert steps_of(tmp_path, f"k{n}") == list(range(1000))


def test_closed_tracker_can_be_used_again(tmp_path: Path) -> None:
    t = Tracker(tmp_path)
    t.log_metric("m", 1.0)
    t.close()
    t.log_metric("m", 2.0)
    t.close()
    assert steps_of(tmp_path, "m") == [0, 1]


# --------------------------------------------------------------------------- params and tags


def test_params_merge_with_the_daemons_params(tmp_path: Path) -> None:
    (tmp_path / runfiles.PARAMS_FILE).write_text(json.dumps({"lr": 0.1, "epochs": 3}))
    t = Tracker(tmp_path)
    assert t.get_params() == {"lr": 0.1, "epochs": 3}
    t.log_param("epochs", 5)
    t.log_params(
        {
            "f32": np.float32(0.5),
            "i64": np.int64(4),
            "flag": np.bool_(True),
            "path": Path("data/x.csv"),
            "nan": math.nan,
            "none": None,
            "ok": True,
        }
    )
    expected = {
        "lr": 0.1,
        "epochs": 5,
        "f32": 0.5,
        "i64": 4,
        "flag": True,
        "path": "data/x.csv",
        "nan": "nan",
        "none": None,
        "ok": True,
    }
    on_disk = json.loads((tmp_path / runfiles.PARAMS_FILE).read_text())
    assert on_disk == expected
    assert type(on_disk["i64"]) is int
    assert t.get_params() == expected
    t.get_params()["x"] = 1  # a copy
    assert t.get_params() == expected


def test_tags_merge_and_are_strings(tmp_path: Path) -> None:
    (tmp_path / runfiles.TAGS_FILE).write_text(json.dumps({"owner": "ana"}))
    t = Tracker(tmp_path)
    t.set_tags({"epochs": 3, "stage": None})
    t.set_tags({"owner": "bo"})
    tags = runfiles.read_json(tmp_path / runfiles.TAGS_FILE)
    assert tags == {"owner": "bo", "epochs": "3", "stage": "None"}


# --------------------------------------------------------------------------- artifacts


def test_artifact_file(tmp_path: Path) -> None:
    run, src = tmp_path / "run", tmp_path / "model.bin"
    src.write_bytes(b"\x00weights")
    t = Tracker(run)
    dest = t.log_artifact(src)
    assert dest == run / runfiles.ARTIFACTS_DIR / "model.bin"
    assert dest.read_bytes() == b"\x00weights"
    renamed = t.log_artifact(str(src), name="models/best.bin")
    assert renamed == run / runfiles.ARTIFACTS_DIR / "models" / "best.bin"
    assert renamed.read_bytes() == b"\x00weights"
    assert sorted(p.name for p in (run / runfiles.ARTIFACTS_DIR).iterdir()) == [
        "model.bin",
        "models",
    ]


def test_artifact_directory_tree(tmp_path: Path) -> None:
    run, src = tmp_path / "run", tmp_path / "plots"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    t = Tracker(run)
    dest = t.log_artifact(src)
    assert dest == run / runfiles.ARTIFACTS_DIR / "plots"
    assert (dest / "a.txt").read_text() == "a"
    assert (dest / "sub" / "b.txt").read_text() == "b"
    (src / "c.txt").write_text("c")
    t.log_artifact(src)  # again: merged into the existing copy
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "c.txt", "sub"]


def test_artifact_errors(tmp_path: Path) -> None:
    t = Tracker(tmp_path / "run")
    with pytest.raises(FileNotFoundError):
        t.log_artifact(tmp_path / "missing")
    (tmp_path / "f").write_text("x")
    for bad in ("../escape", "/abs/path"):
        with pytest.raises(ValueError, match="relative path"):
            t.log_artifact(tmp_path / "f", name=bad)


# --------------------------------------------------------------------------- process exits


def test_background_thread_flushes_while_the_process_sleeps(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = start_script(
        """
        import time
        from mlops_kernel import log_metric
        log_metric("loss", 0.25)
        time.sleep(120)
        """,
        run,
        tmp_path / "home",
    )
    try:
        wait_for(lambda: read_metrics(run) != [], "the metric line")
        assert proc.poll() is None, "the line must appear while the process still runs"
        assert [(k, v) for k, v, _, _ in read_metrics(run)] == [("loss", 0.25)]
    finally:
        proc.kill()
        proc.communicate()


def test_pending_metrics_are_flushed_at_exit(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = start_script(
        """
        from mlops_kernel import tracking
        tracking.FLUSH_INTERVAL_S = 3600.0
        for i in range(10):
            tracking.log_metric("loss", float(i))
        """,
        run,
        tmp_path / "home",
    )
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert steps_of(run, "loss") == list(range(10))


def test_pending_metrics_are_flushed_on_sigterm(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = start_script(
        """
        import sys, time
        from mlops_kernel import tracking
        tracking.FLUSH_INTERVAL_S = 3600.0
        for i in range(5):
            tracking.log_metric("loss", float(i))
        print("ready", flush=True)
        time.sleep(120)
        """,
        run,
        tmp_path / "home",
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        assert read_metrics(run) == []  # still buffered
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=WAIT_S)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGTERM  # it still dies of SIGTERM
    assert steps_of(run, "loss") == list(range(5))


def test_own_sigterm_handler_is_left_alone(tmp_path: Path) -> None:
    proc = start_script(
        """
        import signal
        def mine(signum, frame):
            pass
        signal.signal(signal.SIGTERM, mine)
        from mlops_kernel import log_metric
        log_metric("loss", 1.0)
        assert signal.getsignal(signal.SIGTERM) is mine
        """,
        tmp_path / "run",
        tmp_path / "home",
    )
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err


def test_forked_child_does_not_repeat_the_parents_lines(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = start_script(
        """
        import os
        from mlops_kernel import tracking
        tracking.FLUSH_INTERVAL_S = 3600.0
        for i in range(3):
            tracking.log_metric("parent", float(i))
        pid = os.fork()
        if pid == 0:
            tracking.log_metric("child", 1.0)
            tracking.flush()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert status == 0, status
        tracking.log_metric("parent", 3.0)
        """,
        run,
        tmp_path / "home",
    )
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert steps_of(run, "parent") == [0, 1, 2, 3]
    assert steps_of(run, "child") == [0]


@settings(max_examples=300, deadline=None)
@given(
    key=st.text(min_size=1, max_size=30),
    value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**62), 2**62),
    step=st.integers(0, 2**62),
    time_ms=st.integers(0, 2**50),
)
def test_metric_lines_are_what_json_dumps_writes(
    key: str, value: float, step: int, time_ms: int
) -> None:
    """The tracker's hot path formats lines itself; they must be json.dumps's, byte for byte."""
    line = runfiles.encode_metric(key, value, step, time_ms)
    v: object = value
    if not math.isfinite(value):
        v = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    expected = json.dumps({"k": key, "v": v, "s": step, "t": time_ms}, separators=(",", ":"))
    assert line == expected + "\n"
    assert runfiles.decode_metric(line)[0] == key
