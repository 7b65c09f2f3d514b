"""Fixtures for the model-logging tests: a fresh managed run directory per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from mlops_kernel import runfiles, tracking


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``$MLOPS_RUN_DIR`` set to a new folder, so log_model writes there."""
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.setenv(runfiles.RUN_DIR_ENV, str(run))
    monkeypatch.delenv(runfiles.PARAMS_FILE_ENV, raising=False)
    tracking.reset()
    yield run
    tracking.reset()


@pytest.fixture
def make_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], ModuleType]]:
    """Write source into a uniquely named importable module and import it."""
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    names: list[str] = []

    def make(source: str) -> ModuleType:
        name = f"features_{uuid.uuid4().hex[:10]}"
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
        names.append(name)
        __import__(name)
        return sys.modules[name]

    yield make
    for name in names:
        sys.modules.pop(name, None)
