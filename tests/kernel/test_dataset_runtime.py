"""dataset_path inside and outside a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mlops_kernel
from mlops_kernel.datasets import DatasetNotAvailable, dataset_path


def test_outside_a_run_it_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_DATA_DIR", raising=False)
    with pytest.raises(DatasetNotAvailable, match="--dataset iris"):
        dataset_path("iris")


def test_inside_a_run_it_is_the_mounted_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "iris").mkdir()
    monkeypatch.setenv("MLOPS_DATA_DIR", str(tmp_path))
    assert mlops_kernel.dataset_path("iris") == tmp_path / "iris"
    with pytest.raises(DatasetNotAvailable, match=r"mounted: iris"):
        dataset_path("wine")
    with pytest.raises(ValueError, match="name only"):
        dataset_path("iris@2")


def test_importing_the_package_stays_cheap() -> None:
    code = (
        "import sys, mlops_kernel; "
        "assert 'mlops_kernel.datasets' not in sys.modules; "
        "mlops_kernel.dataset_path; assert 'mlops_kernel.datasets' in sys.modules; "
        "assert 'mlops_kernel.dataset_manifest' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
