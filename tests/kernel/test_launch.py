"""The launcher: ``python -m mlops_kernel.launch pkg.mod:func`` run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mlops_kernel
from mlops_kernel import runfiles
from mlops_kernel.launch import LaunchError, parse_entry_point, select_kwargs

PACKAGE_ROOT = Path(mlops_kernel.__file__).resolve().parent.parent
WAIT_S = 60.0

TRAIN_MODULE = """
import json
import sys
from mlops_kernel import get_params, log_metric, tracking


def fit(lr, epochs=1, *, seed=0):
    with open("seen.json", "w") as fh:
        json.dump({"kwargs": {"lr": lr, "epochs": epochs, "seed": seed},
                   "params": get_params(), "argv": sys.argv}, fh)


def anything(**kwargs):
    with open("seen.json", "w") as fh:
        json.dump({"kwargs": kwargs}, fh)


def only_positional(a, /, lr=0.0):
    with open("seen.json", "w") as fh:
        json.dump({"kwargs": {"a": a, "lr": lr}}, fh)


def no_args():
    return {"acc": 0.75, "count": 3, "note": "not a number"}


def boom():
    tracking.FLUSH_INTERVAL_S = 3600.0
    log_metric("before_crash", 1.0)
    raise RuntimeError("diverged at epoch 3")


def quits():
    sys.exit(3)


NOT_CALLABLE = 42
"""


@dataclass
class Launched:
    returncode: int
    stdout: str
    stderr: str
    run: Path
    work: Path

    def seen(self) -> Any:
        return json.loads((self.work / "seen.json").read_text())

    def metrics(self) -> dict[str, float]:
        path = self.run / runfiles.METRICS_FILE
        lines = path.read_text().splitlines() if path.exists() else []
        return {k: v for k, v, _, _ in map(runfiles.decode_metric, lines)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory with a package ``trainpkg.train`` and a broken module."""
    root = tmp_path / "project"
    (root / "trainpkg").mkdir(parents=True)
    (root / "trainpkg" / "__init__.py").write_text("")
    (root / "trainpkg" / "train.py").write_text(TRAIN_MODULE)
    (root / "trainpkg" / "needs_dep.py").write_text("import surely_not_installed_xyz\n")
    (root / "trainpkg" / "bad_import.py").write_text("raise ValueError('bad config')\n")
    return root


def launch(project: Path, *args: str, params: dict[str, Any] | None = None) -> Launched:
    base = project.parent
    run, work = base / "run", base / "run" / runfiles.WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    runfiles.write_json_atomic(run / runfiles.PARAMS_FILE, params or {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(project), str(PACKAGE_ROOT)])
    env[runfiles.RUN_DIR_ENV] = str(run)
    env["MLOPS_HOME"] = str(base / "home")
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_kernel.launch", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    return Launched(proc.returncode, proc.stdout, proc.stderr, run, work)


# --------------------------------------------------------------------------- calling


def test_params_are_passed_as_the_keywords_the_function_declares(project: Path) -> None:
    params = {"lr": 0.5, "epochs": 3, "seed": 7, "extra": "kept"}
    result = launch(project, "trainpkg.train:fit", "--flag", params=params)
    assert result.returncode == 0, result.stderr
    seen = result.seen()
    assert seen["kwargs"] == {"lr": 0.5, "epochs": 3, "seed": 7}
    assert seen["params"] == params  # what the function does not take stays available
    assert seen["argv"] == ["trainpkg.train:fit", "--flag"]


def test_defaults_apply_when_params_are_absent(project: Path) -> None:
    result = launch(project, "trainpkg.train:fit", params={"lr": 0.1})
    assert result.returncode == 0, result.stderr
    assert result.seen()["kwargs"] == {"lr": 0.1, "epochs": 1, "seed": 0}


def test_var_keyword_function_gets_every_param(project: Path) -> None:
    params = {"lr": 0.5, "anything": "goes", "n": None}
    result = launch(project, "trainpkg.train:anything", params=params)
    assert result.returncode == 0, result.stderr
    assert result.seen()["kwargs"] == params


def test_returned_mapping_is_logged_as_metrics(project: Path) -> None:
    result = launch(project, "trainpkg.train:no_args", params={"lr": 0.5})
    assert result.returncode == 0, result.stderr
    assert result.metrics() == {"acc": 0.75, "count": 3.0}
    assert "'note'" in result.stderr


def test_required_param_without_value_is_a_usage_error(project: Path) -> None:
    result = launch(project, "trainpkg.train:fit", params={"epochs": 2})
    assert result.returncode == 2
    assert "'lr'" in result.stderr
    assert "epochs" in result.stderr


def test_positional_only_parameters_are_not_filled(project: Path) -> None:
    result = launch(project, "trainpkg.train:only_positional", params={"a": 1, "lr": 0.2})
    assert result.returncode == 1  # the call itself fails: `a` cannot be passed by keyword
    assert "TypeError" in result.stderr


# --------------------------------------------------------------------------- failures


def test_exception_exits_1_with_traceback_and_flushes_metrics(project: Path) -> None:
    result = launch(project, "trainpkg.train:boom")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "RuntimeError: diverged at epoch 3" in result.stderr
    assert result.metrics() == {"before_crash": 1.0}


def test_sys_exit_code_is_kept(project: Path) -> None:
    assert launch(project, "trainpkg.train:quits").returncode == 3


@pytest.mark.parametrize(
    ("entry_point", "message"),
    [
        ("trainpkg.nope:fit", "cannot import module 'trainpkg.nope'"),
        ("nopkg_xyz.train:fit", "cannot import module 'nopkg_xyz.train'"),
        ("trainpkg.train:missing", "has no attribute 'missing'"),
        ("trainpkg.train:NOT_CALLABLE", "not callable"),
        ("trainpkg.train", "expected 'package.module:function'"),
        ("trainpkg.train:a.b", "expected 'package.module:function'"),
        ("1bad:fit", "expected 'package.module:function'"),
    ],
)
def test_bad_entry_points_exit_2_with_a_message(
    project: Path, entry_point: str, message: str
) -> None:
    result = launch(project, entry_point)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_no_entry_point_is_a_usage_error(project: Path) -> None:
    result = launch(project)
    assert result.returncode == 2
    assert "usage:" in result.stderr


@pytest.mark.parametrize(
    ("module", "message"),
    [("needs_dep", "surely_not_installed_xyz"), ("bad_import", "ValueError: bad config")],
)
def test_module_failing_to_import_is_a_run_failure(
    project: Path, module: str, message: str
) -> None:
    result = launch(project, f"trainpkg.{module}:main")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" in result.stderr


# --------------------------------------------------------------------------- in-process units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train:main", ("train", "main")),
        ("a.b.c:run_1", ("a.b.c", "run_1")),
        ("_pkg._mod:_f", ("_pkg._mod", "_f")),
    ],
)
def test_parse_entry_point(text: str, expected: tuple[str, str]) -> None:
    assert parse_entry_point(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        *("", "train", "train:", ":main", "a..b:f", ".a:f", "a.:f", "a b:f", "a:b:c", "a:f()"),
        *("a:Class.method", "1a:f", "a:1f", "a.class:f", "a:def", "a-b:f", " a:f"),
    ],
)
def test_parse_entry_point_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected 'package\.module:function'"):
        parse_entry_point(text)


def test_select_kwargs() -> None:
    def f(a: int, b: int = 2, *args: int, c: int = 3) -> None: ...

    def g(a: int, **rest: int) -> None: ...

    params = {"a": 1, "c": 5, "z": 9}
    assert select_kwargs(f, params) == {"a": 1, "c": 5}
    assert select_kwargs(g, params) == params
    with pytest.raises(LaunchError, match="'a'"):
        select_kwargs(f, {"b": 1})
    assert select_kwargs(textwrap.dedent, {"text": "x", "other": 1}) == {"text": "x"}
