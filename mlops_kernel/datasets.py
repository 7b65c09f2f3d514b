"""Inside a run: where the datasets it names are.

A run started with ``mlops run train.py --dataset iris`` (or ``RunSpec.datasets``)
sees each dataset at ``$MLOPS_DATA_DIR/<name>``: a folder for a dataset recorded
from a folder, the file itself for one recorded from a single file::

    from mlops_kernel import dataset_path
    frame = pandas.read_csv(dataset_path("iris") / "iris.csv")

The local executor links ``<run_dir>/data/<name>`` to the recorded path (it cannot
make it read-only); the Docker executor mounts it read-only at ``/mlops/data/<name>``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DATA_DIR_ENV = "MLOPS_DATA_DIR"
DATA_DIR = "data"
"""The folder of a run directory where the local executor links its datasets."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class DatasetNotAvailable(LookupError):
    """The dataset is not mounted in this process (the message says how to get it)."""


def dataset_path(name: str) -> Path:
    """The path of the dataset ``name`` in this run (raises DatasetNotAvailable)."""
    if not _NAME.match(name):
        raise ValueError(
            f"{name!r} is not a dataset name (give the name only, e.g. 'iris'; "
            "the version is chosen with `--dataset iris@2`)"
        )
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        raise DatasetNotAvailable(
            f"dataset_path({name!r}) works inside a run: start it with "
            f"`mlops run ENTRY --dataset {name}` (record the data first with "
            f"`mlops data add PATH --name {name}`)"
        )
    path = Path(root) / name
    if not os.path.lexists(path):
        mounted = sorted(os.listdir(root)) if os.path.isdir(root) else []
        raise DatasetNotAvailable(
            f"dataset {name!r} is not mounted in this run (mounted: "
            f"{', '.join(mounted) or 'none'}); add `--dataset {name}` to `mlops run`"
        )
    return path
