"""Real scikit-learn models logged with ``log_model`` and registered under an alias,
for the serving tests and benchmark (no daemon run needed: rows go in through the store).
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.daemon import DaemonProcess, running_daemon

from mlops_daemon.config import DaemonConfig
from mlops_daemon.store.model_registry import AliasChange
from mlops_daemon.store.repository import Store
from mlops_kernel import runfiles, tracking
from mlops_kernel.model_schemas import ModelVersionOut
from mlops_kernel.models.log import log_model
from mlops_kernel.models.manifest import MODELS_DIR, ModelManifest
from mlops_kernel.schemas import RunSpec

FEATURES_SOURCE = '''\
"""Preprocessing of the "colours" test model: one-hot of a text column."""

import numpy as np


def encode(frame):
    numbers = frame[["a", "b"]].to_numpy(dtype=float)
    red = (frame["colour"] == "red").to_numpy(dtype=float)
    return np.column_stack([numbers, red])
'''


@dataclass
class LoggedModel:
    name: str
    model_dir: Path
    manifest: ModelManifest
    native: Any
    rows: list[list[Any]]
    """Raw rows, as a request carries them."""
    expected: list[Any]
    """The native model's predictions for ``rows``."""


@contextlib.contextmanager
def managed_run(run_dir: Path) -> Iterator[Path]:
    """``log_model`` writes into ``run_dir`` while inside."""
    old = os.environ.get(runfiles.RUN_DIR_ENV)
    os.environ[runfiles.RUN_DIR_ENV] = str(run_dir)
    tracking.reset()
    try:
        yield run_dir
    finally:
        tracking.reset()
        if old is None:
            os.environ.pop(runfiles.RUN_DIR_ENV, None)
        else:
            os.environ[runfiles.RUN_DIR_ENV] = old


def iris(run_dir: Path) -> LoggedModel:
    """A classifier pipeline on a numpy array (raw rows are 4 numbers)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    with managed_run(run_dir):
        manifest = log_model(model, x[:5], name="iris", evaluation=(x, y))
    rows = x.tolist()
    return LoggedModel("iris", run_dir / MODELS_DIR / "iris", manifest, model, rows,
                       model.predict(x).tolist())  # fmt: skip


def diabetes(run_dir: Path) -> LoggedModel:
    """A regressor on a DataFrame (raw rows follow the columns)."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    frame, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.5).fit(frame, y)
    with managed_run(run_dir):
        manifest = log_model(model, frame.iloc[:5], name="diabetes", evaluation=(frame, y))
    rows = frame.to_numpy().tolist()
    return LoggedModel("diabetes", run_dir / MODELS_DIR / "diabetes", manifest, model, rows,
                       model.predict(frame).tolist())  # fmt: skip


def colours(run_dir: Path, module_dir: Path) -> LoggedModel:
    """A classifier behind a preprocess function that encodes a text column."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    name = f"serving_features_{uuid.uuid4().hex[:8]}"
    module_dir.mkdir(parents=True, exist_ok=True)
    (module_dir / f"{name}.py").write_text(FEATURES_SOURCE)
    sys.path.insert(0, str(module_dir))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(str(module_dir))
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "colour": rng.choice(["red", "blue"], size=n),
        }
    )
    y = ((frame["colour"] == "red") ^ (frame["a"] > 0)).astype(int)
    model = LogisticRegression().fit(module.encode(frame), y)
    with managed_run(run_dir):
        manifest = log_model(model, frame.iloc[:5], name="colours", preprocess=module.encode)
    rows = [list(r) for r in frame.itertuples(index=False, name=None)]
    sys.modules.pop(name, None)
    return LoggedModel("colours", run_dir / MODELS_DIR / "colours", manifest, model, rows,
                       model.predict(module.encode(frame)).tolist())  # fmt: skip


def daemon_store(home: Path) -> Store:
    """A store on the database of the daemon whose home is ``home``."""
    return Store(DaemonConfig(home=home).effective_database_url)


def register(
    store: Store, logged: LoggedModel, run_id: str, alias: str = "production"
) -> ModelVersionOut:
    """Record a run that logged ``logged``, register it, and point ``alias`` at it."""
    run_dir = logged.model_dir.parent.parent
    if not store.run_exists(run_id):
        spec = RunSpec(project=str(run_dir), entry_point="train.py")
        store.create_run(run_id, spec, "local", run_dir)
    version = store.register_model_version(run_id, logged.model_dir, logged.manifest)
    try:
        current = store.resolve_alias(logged.name, alias).version_id
    except Exception:
        current = None
    change = AliasChange(
        model=logged.name,
        alias=alias,
        action="promote",
        version_id=version.id,
        previous_version_id=current,
        actor="test",
        reason="serving test",
    )
    store.set_alias(change)
    return version


@contextlib.contextmanager
def daemon_serving(home: Path, logged: dict[str, LoggedModel]) -> Iterator[DaemonProcess]:
    """A daemon over ``home`` with each logged model registered (one run each)."""
    with running_daemon(home) as proc:
        store = daemon_store(proc.home)
        try:
            for i, model in enumerate(logged.values()):
                register(store, model, f"run{i}")
        finally:
            store.close()
        yield proc
