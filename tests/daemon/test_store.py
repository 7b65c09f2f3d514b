"""The store against both databases it supports: SQLite (WAL) and a real PostgreSQL."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from mlops_daemon.errors import IllegalTransition, InvalidInput, NotFound
from mlops_daemon.store.engine import alembic_config
from mlops_daemon.store.repository import Store
from mlops_kernel.schemas import RunQuery, RunSpec, RunStatus

S = RunStatus


def spec(project: str = "/srv/project", **params: object) -> RunSpec:
    return RunSpec(project=project, entry_point="train.py", params=params)  # type: ignore[arg-type]


def make_run(store: Store, run_id: str, project: str = "/srv/project", **params: object) -> None:
    store.create_run(run_id, spec(project, **params), "local", Path("/tmp") / run_id)


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_a_no_op(store: Store) -> None:
    again = Store(str(store.engine.url.render_as_string(hide_password=False)))
    again.close()
    with store.engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar_one()
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert version == head


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with s.engine.connect() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("pragma foreign_keys")).scalar_one() == 1
    s.close()


def test_create_and_read_back(store: Store) -> None:
    detail = store.create_run("r1", spec(lr=0.1, opt="adam"), "local", Path("/tmp/r1"))
    assert detail.status == S.queued
    assert detail.params == {"lr": 0.1, "opt": "adam"}
    got = store.get_run("r1")
    assert got.spec.entry_point == "train.py"
    assert got.created_at.tzinfo is not None
    assert store.list_projects().projects[0].run_count == 1


def test_unknown_run_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get_run("nope")
    with pytest.raises(NotFound):
        store.metrics("nope")


def test_state_machine_is_enforced(store: Store) -> None:
    make_run(store, "r1")
    with pytest.raises(IllegalTransition):
        store.transition("r1", S.succeeded)
    store.transition("r1", S.preparing)
    run = store.transition("r1", S.running)
    assert run.started_at is not None
    run = store.transition("r1", S.succeeded, "exited with code 0", exit_code=0)
    assert run.duration_s is not None and run.duration_s >= 0
    with pytest.raises(IllegalTransition, match="already ended"):
        store.transition("r1", S.failed)
    with pytest.raises(IllegalTransition):
        store.request_cancel("r1")


def test_ingestion_is_exactly_once_by_offset(store: Store) -> None:
    make_run(store, "r1")
    assert store.ingest_metrics("r1", [("loss", 1.0, 0, 10), ("loss", 0.5, 1, 20)], 0, 40)
    # A second ingester that read from the same offset must not store the points again.
    assert not store.ingest_metrics("r1", [("loss", 1.0, 0, 10), ("loss", 0.5, 1, 20)], 0, 40)
    assert store.ingest_metrics("r1", [("loss", 0.25, 2, 30)], 40, 60)
    series = store.metrics("r1").series
    assert [(s.key, s.steps, s.values) for s in series] == [("loss", [0, 1, 2], [1.0, 0.5, 0.25])]
    assert store.get_row("r1").metrics_offset == 60
    assert store.get_run("r1").metrics == {"loss": 0.25}


def test_non_finite_metrics_round_trip(store: Store) -> None:
    make_run(store, "r1")
    store.ingest_metrics(
        "r1", [("a", math.nan, 0, 1), ("b", math.inf, 0, 1), ("c", -math.inf, 0, 1)], 0, 3
    )
    assert store.get_run("r1").metrics == {"a": "NaN", "b": "Infinity", "c": "-Infinity"}


def test_a_point_logged_twice_at_one_step_is_kept_twice_in_order(store: Store) -> None:
    make_run(store, "r1")
    store.ingest_metrics("r1", [("loss", 0.5, 3, 1), ("loss", 0.4, 3, 2)], 0, 2)
    store.ingest_metrics("r1", [("loss", 0.3, 3, 3)], 2, 3)
    (series,) = store.metrics("r1").series
    assert (series.steps, series.values) == ([3, 3, 3], [0.5, 0.4, 0.3])


def test_more_points_than_bytes_is_refused(store: Store) -> None:
    make_run(store, "r1")
    with pytest.raises(ValueError, match="cannot come from"):
        store.ingest_metrics("r1", [("a", 1.0, 0, 1), ("a", 2.0, 1, 1)], 0, 1)


def test_latest_metric_keeps_the_highest_step(store: Store) -> None:
    make_run(store, "r1")
    store.ingest_metrics("r1", [("acc", 0.9, 5, 1)], 0, 10)
    store.ingest_metrics("r1", [("acc", 0.1, 2, 2)], 10, 20)  # an older step logged late
    assert store.get_run("r1").metrics == {"acc": 0.9}


def test_listing_sorts_filters_and_pages(store: Store) -> None:
    for i, acc in enumerate([0.7, None, 0.9, 0.8]):
        make_run(store, f"r{i}", project="/p/a" if i < 2 else "/p/b", lr=10**-i)
        if acc is not None:
            store.ingest_metrics(f"r{i}", [("acc", acc, 0, 1)], 0, 1)
    ids = lambda q: [r.id for r in store.list_runs(q).runs]  # noqa: E731
    assert ids(RunQuery(sort="metrics.acc")) == ["r2", "r3", "r0", "r1"]
    assert ids(RunQuery(sort="metrics.acc", order="asc")) == ["r0", "r3", "r2", "r1"]
    assert ids(RunQuery(sort="params.lr", order="asc")) == ["r3", "r2", "r1", "r0"]
    assert ids(RunQuery(project="/p/a", order="asc")) == ["r0", "r1"]
    page = store.list_runs(RunQuery(per_page=3, page=2, order="asc"))
    assert [r.id for r in page.runs] == ["r3"] and page.total == 4
    store.transition("r0", S.cancelled)
    assert ids(RunQuery(status="cancelled")) == ["r0"]
    assert ids(RunQuery(project="/nowhere")) == []
    with pytest.raises(ValueError, match="cannot sort by 'bogus'"):
        RunQuery(sort="bogus")
    with pytest.raises(InvalidInput):
        store.list_runs(RunQuery(status="nonsense"))


def test_params_tags_and_artifacts(store: Store) -> None:
    make_run(store, "r1", lr=0.1)
    store.set_params("r1", {"lr": 0.2, "layers": 3})
    store.set_tags("r1", {"team": "vision"})
    store.set_artifacts("r1", [("model.pkl", 10, "ab" * 32)])
    got = store.get_run("r1")
    assert got.params == {"layers": 3, "lr": 0.2}
    assert got.tags == {"team": "vision"}
    assert [(a.path, a.size) for a in got.artifacts] == [("model.pkl", 10)]


def test_concurrent_writers_do_not_lose_updates(store: Store) -> None:
    """Ingestion threads for different runs write at once; every point lands."""
    for i in range(4):
        make_run(store, f"r{i}")

    def ingest(run_id: str) -> None:
        for step in range(50):  # each point is one byte of a pretend file
            assert store.ingest_metrics(run_id, [("x", float(step), step, step)], step, step + 1)

    threads = [threading.Thread(target=ingest, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert store.metrics(f"r{i}").series[0].steps == list(range(50))


def test_a_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not valid"):
        Store("not a url")
