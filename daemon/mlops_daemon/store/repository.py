"""The store: the one interface to the daemon's database.

Every method opens its own managed session (committed on success, rolled back
on error) and is blocking; the event loop reaches it only through
``AsyncStore`` (``store/async_store.py``), which runs it on a thread pool.
On SQLite, writes are serialised by a lock (SQLite has one writer anyway, and
waiting on a Python lock is cheaper than on ``database is locked``).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from mlops_kernel.schemas import (
    MetricSeries,
    MetricValue,
    ParamValue,
    ProjectList,
    ProjectOut,
    RunDetail,
    RunMetrics,
    RunPage,
    RunQuery,
    RunSpec,
    RunStatus,
)

from ..errors import NotFound
from ..statemachine import check_transition
from . import datasets as dataset_rows
from . import listing, module_versions, views
from .datasets import DatasetStore
from .engine import make_engine, migrate
from .model_registry import ModelRegistryStore
from .models import Artifact, LatestMetric, Param, Project, Run
from .module_versions import ModuleVersionStore

MetricPoint = tuple[str, float, int, int]
"""(key, value, step, time in ms)"""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store(ModuleVersionStore, DatasetStore, ModelRegistryStore):
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        migrate(self.engine)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_metric_sql = (
            "INSERT INTO metric (run_id, key, step, seq, value, time_ms) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark})"
        )
        series = "SELECT key, step, value, time_ms FROM metric WHERE run_id = {}{} "
        order = "ORDER BY key, step, seq"
        self._series_sql = series.format(mark, "") + order
        self._series_key_sql = series.format(mark, f" AND key = {mark}") + order

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A managed session: committed when the block succeeds, rolled back otherwise."""
        lock = self._write_lock if write else None
        if lock is not None:
            lock.acquire()
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            if lock is not None:
                lock.release()

    # -- runs ---------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        spec: RunSpec,
        executor: str,
        run_dir: Path,
        module_version_id: str | None = None,
        isolation: str | None = None,
        identity: str | None = None,
        datasets: Sequence[tuple[str, str]] = (),
    ) -> RunDetail:
        """Record a queued run; ``datasets``: (mount name, dataset version id) it is given."""
        now = utcnow()
        with self.session(write=True) as s:
            project = self._ensure_project(s, spec.project, now)
            run = Run(
                id=run_id,
                project_id=project.id or 0,
                name=spec.name,
                entry_point=spec.entry_point,
                executor=executor,
                status=RunStatus.queued.value,
                spec_json=spec.model_dump_json(),
                run_dir=str(run_dir),
                created_at=now,
                module_version_id=module_version_id,
                isolation=isolation,
                identity=identity,
            )
            s.add(run)
            s.flush()
            self._put_params(s, run_id, spec.params)
            dataset_rows.link_run(s, run_id, datasets)
        return self.get_run(run_id)

    def succeeded_with_identity(self, identity: str) -> str | None:
        """The newest succeeded run with this identity (a cache hit), if any."""
        with self.session() as s:
            found = s.scalars(
                select(col(Run.id))
                .where(col(Run.identity) == identity, col(Run.status) == RunStatus.succeeded.value)
                .order_by(col(Run.created_at).desc())
                .limit(1)
            ).first()
            return str(found) if found is not None else None

    def run_exists(self, run_id: str) -> bool:
        with self.session() as s:
            return s.get(Run, run_id) is not None

    def get_row(self, run_id: str) -> Run:
        with self.session() as s:
            return self._row(s, run_id)

    def get_run(self, run_id: str) -> RunDetail:
        with self.session() as s:
            run = self._row(s, run_id)
            project = s.get(Project, run.project_id)
            params = views.params_by_run(
                s.scalars(select(Param).where(col(Param.run_id) == run_id))
            )
            metrics = views.metrics_by_run(
                s.scalars(select(LatestMetric).where(col(LatestMetric.run_id) == run_id))
            )
            artifacts = s.scalars(
                select(Artifact).where(col(Artifact.run_id) == run_id).order_by(col(Artifact.path))
            ).all()
            detail = views.detail(
                run,
                project.path if project else "",
                params.get(run_id, {}),
                metrics.get(run_id, {}),
                artifacts,
                module_versions.refs(s, [run.module_version_id]).get(run.module_version_id or ""),
            )
            detail.datasets = [dataset_rows.ref(v) for _, v in dataset_rows.run_datasets(s, run_id)]
            return detail

    def list_runs(self, q: RunQuery) -> RunPage:
        with self.session() as s:
            conditions = listing.filters(s, q)
            # First the page's ids (the sort touches only narrow columns), then their rows.
            id_stmt = select(col(Run.id))
            if conditions:
                id_stmt = id_stmt.where(*conditions)
            ids = list(s.execute(listing.sorted_page(id_stmt, q)).scalars())
            position = {run_id: i for i, run_id in enumerate(ids)}
            stmt = (
                select(Run, col(Project.path))
                .join(Project, col(Project.id) == col(Run.project_id))
                .where(col(Run.id).in_(ids))
            )
            rows = sorted(s.execute(stmt).all(), key=lambda r: position[r[0].id])
            params = views.params_by_run(s.scalars(select(Param).where(col(Param.run_id).in_(ids))))
            metrics = views.metrics_by_run(
                s.scalars(select(LatestMetric).where(col(LatestMetric.run_id).in_(ids)))
            )
            versions = module_versions.refs(s, (run.module_version_id for run, _ in rows))
            return RunPage(
                runs=[
                    views.summary(
                        run,
                        path,
                        params.get(run.id, {}),
                        metrics.get(run.id, {}),
                        versions.get(run.module_version_id or ""),
                    )
                    for run, path in rows
                ],
                total=listing.count(s, conditions),
                page=q.page,
                per_page=q.per_page,
            )

    def rows_with_status(self, statuses: Sequence[RunStatus]) -> list[Run]:
        with self.session() as s:
            stmt = (
                select(Run)
                .where(col(Run.status).in_([st.value for st in statuses]))
                .order_by(col(Run.created_at), col(Run.id))
            )
            return list(s.scalars(stmt).all())

    def status_counts(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(col(Run.status), func.count()).group_by(col(Run.status)))
            return {str(status): int(n) for status, n in rows}

    def transition(
        self, run_id: str, new: RunStatus, reason: str | None = None, **fields: Any
    ) -> Run:
        """Move a run to ``new`` (checked by the state machine) and set ``fields``."""
        with self.session(write=True) as s:
            run = self._row(s, run_id, for_update=True)
            check_transition(run_id, RunStatus(run.status), new)
            run.status = new.value
            if reason is not None:
                run.status_reason = reason
            now = utcnow()
            if new == RunStatus.running and run.started_at is None:
                run.started_at = now
            if new.terminal:
                run.ended_at = now
                if run.started_at is not None:
                    run.duration_s = (now - run.started_at).total_seconds()
            for name, value in fields.items():
                setattr(run, name, value)
            return run

    def update_run(self, run_id: str, **fields: Any) -> None:
        with self.session(write=True) as s:
            s.execute(update(Run).where(col(Run.id) == run_id).values(**fields))

    def request_cancel(self, run_id: str) -> Run:
        """Mark a run for cancellation (refused with 409 once it has ended)."""
        with self.session(write=True) as s:
            run = self._row(s, run_id, for_update=True)
            check_transition(run_id, RunStatus(run.status), RunStatus.cancelled)
            run.cancel_requested = True
            return run

    # -- what a run logged --------------------------------------------------

    def ingest_metrics(
        self, run_id: str, points: Sequence[MetricPoint], start: int, end: int
    ) -> bool:
        """Store points read from bytes [start, end) of the run's metrics file.

        The rows and the new offset commit together, and only if the stored
        offset is still ``start``: a line is never stored twice or skipped,
        whatever crashes in between. Returns False if the offset had moved.
        Each point came from a line of at least one byte: ``end - start`` is at
        least the number of points (their ``seq`` numbers rely on it).
        """
        if end - start < len(points):
            raise ValueError(f"{len(points)} points cannot come from {end - start} bytes")
        with self.session(write=True) as s:
            moved = s.execute(
                update(Run)
                .where(col(Run.id) == run_id, col(Run.metrics_offset) == start)
                .values(metrics_offset=end)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return False
            if not points:
                return True
            # The hot path of ingestion: plain tuples through the driver's executemany
            # (the ORM's per-row parameter handling would cost more than the insert).
            s.connection().exec_driver_sql(
                self._insert_metric_sql,
                # v == v is False only for NaN, which is stored as NULL (see models.py)
                # seq: start + i grows with each point and never repeats across batches,
                # since every line takes at least a byte of the file.
                [
                    (run_id, k, st, start + i, v if v == v else None, t)
                    for i, (k, v, st, t) in enumerate(points)
                ],
            )
            self._upsert_latest(s, run_id, points)
            return True

    def metrics(self, run_id: str, key: str | None = None) -> RunMetrics:
        """Every point of the run's metrics (or of one key), as columns per key.

        A hot path (a chart asks for whole series): the rows go through the
        driver directly and the result is built without re-validation, since
        every value comes straight from our own columns.
        """
        with self.session() as s:
            self._row(s, run_id)
            args: tuple[str, ...] = (run_id,) if key is None else (run_id, key)
            cursor = s.connection().connection.cursor()  # the driver's own cursor
            cursor.execute(self._series_sql if key is None else self._series_key_sql, args)
            columns: dict[str, tuple[list[int], list[MetricValue], list[int]]] = {}
            for k, step, value, t in cursor.fetchall():
                steps, values, times = columns.setdefault(k, ([], [], []))
                steps.append(step)
                values.append(
                    value
                    if value is not None and math.isfinite(value)
                    else views.loaded_metric(value)
                )
                times.append(t)
            return RunMetrics.model_construct(
                run_id=run_id,
                series=[
                    MetricSeries.model_construct(key=k, steps=st, values=v, times=t)
                    for k, (st, v, t) in columns.items()
                ],
            )

    def set_params(self, run_id: str, params: dict[str, ParamValue]) -> None:
        with self.session(write=True) as s:
            self._put_params(s, run_id, params)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.update_run(run_id, tags_json=json.dumps(tags, sort_keys=True))

    def set_artifacts(self, run_id: str, artifacts: Sequence[tuple[str, int, str | None]]) -> None:
        with self.session(write=True) as s:
            s.execute(delete(Artifact).where(col(Artifact.run_id) == run_id))
            for path, size, digest in artifacts:
                s.add(Artifact(run_id=run_id, path=path, size=size, sha256=digest))

    # -- projects -----------------------------------------------------------

    def list_projects(self) -> ProjectList:
        with self.session() as s:
            counts = dict(
                s.execute(
                    select(col(Run.project_id), func.count()).group_by(col(Run.project_id))
                ).all()
            )
            projects = s.scalars(select(Project).order_by(col(Project.path))).all()
            return ProjectList(
                projects=[
                    ProjectOut(
                        id=p.id or 0,
                        path=p.path,
                        name=p.name,
                        created_at=p.created_at,
                        run_count=int(counts.get(p.id or 0, 0)),
                    )
                    for p in projects
                ]
            )

    # -- helpers ------------------------------------------------------------

    def _row(self, s: Session, run_id: str, for_update: bool = False) -> Run:
        stmt = select(Run).where(col(Run.id) == run_id)
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        run = s.scalars(stmt).first()
        if run is None:
            raise NotFound(f"no run with id {run_id!r}; `mlops runs list` shows the runs")
        return run

    def _ensure_project(self, s: Session, path: str, now: datetime) -> Project:
        project = s.scalars(select(Project).where(col(Project.path) == path)).first()
        if project is None:
            project = Project(path=path, name=Path(path).name or path, created_at=now)
            s.add(project)
            s.flush()
        return project

    def _put_params(self, s: Session, run_id: str, params: dict[str, ParamValue]) -> None:
        for key, value in params.items():
            text, num = views.param_columns(value)
            existing = s.get(Param, (run_id, key))
            if existing is None:
                s.add(Param(run_id=run_id, key=key, value_json=text, value_num=num))
            else:
                existing.value_json, existing.value_num = text, num

    def _upsert_latest(self, s: Session, run_id: str, points: Sequence[MetricPoint]) -> None:
        last: dict[str, MetricPoint] = {}
        for p in points:
            prev = last.get(p[0])
            if prev is None or p[2] >= prev[2]:
                last[p[0]] = p
        rows = [
            {"run_id": run_id, "key": k, "step": st, "value": views.stored_metric(v), "time_ms": t}
            for k, v, st, t in last.values()
        ]
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        table = LatestMetric.__table__  # type: ignore[attr-defined]
        stmt = dialect_insert(table)
        newer: ColumnElement[bool] = stmt.excluded.step >= table.c.step
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["run_id", "key"],
                set_={
                    "step": stmt.excluded.step,
                    "value": stmt.excluded.value,
                    "time_ms": stmt.excluded.time_ms,
                },
                where=newer,
            ),
            rows,
        )
