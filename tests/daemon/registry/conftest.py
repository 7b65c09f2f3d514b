"""Fixtures of the registry tests: a store (SQLite, and PostgreSQL where one can be had),
and a factory of gated model runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.model_registry import ModelRun, make_model_run

from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import ModelVersionOut


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mlops.db'}"
    else:
        url = request.getfixturevalue("postgres_db_url")
    s = Store(url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def model_run(store: Store) -> ModelRun:
    def make(run_id: str, name: str = "iris", gate: str | None = "passed") -> ModelVersionOut:
        return make_model_run(store, run_id, name, gate)

    return make
