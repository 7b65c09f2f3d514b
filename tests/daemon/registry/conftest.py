"""Fixtures of the registry tests: a factory of gated model runs in the ``store``
(``support.stores``: SQLite, and PostgreSQL where one can be had)."""

from __future__ import annotations

import pytest
from support.model_registry import ModelRun, make_model_run

from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import ModelVersionOut


@pytest.fixture
def model_run(store: Store) -> ModelRun:
    def make(run_id: str, name: str = "iris", gate: str | None = "passed") -> ModelVersionOut:
        return make_model_run(store, run_id, name, gate)

    return make
