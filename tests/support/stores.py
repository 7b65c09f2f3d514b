"""A ``store`` on each database the daemon supports: SQLite, and PostgreSQL (a real
server, marked ``postgres`` and ``slow``). A test module that needs another kind
of store defines its own ``store`` fixture, which takes precedence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_daemon.store.repository import Store


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
