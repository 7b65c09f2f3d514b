"""Gate reports in the store (``GateReportStore``, a base of ``ModelRegistryStore``).

A report is created ``pending`` when a run's gates start and finished once with all
its checks; ``passed`` then says whether every required check passed (a required
check that was ``skipped`` as not applicable does not block; ``error`` does).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlmodel import col

from mlops_kernel.model_schemas import CheckStatus, GateCheck, GateReportOut, GateStatus
from mlops_kernel.schemas import RunStatus

from ..errors import Conflict, NotFound
from .models import GateReport, Run
from .registry_views import gate_out


def required_failures(checks: Sequence[GateCheck]) -> list[GateCheck]:
    """The required checks that block promotion (failed, or could not be carried out)."""
    return [c for c in checks if c.required and c.status in (CheckStatus.failed, CheckStatus.error)]


def no_run(run_id: str) -> NotFound:
    return NotFound(f"no run with id {run_id!r}; `mlops runs list` shows the runs")


class GateReportStore:
    """The gate report methods of ``Store`` (each in its own managed session)."""

    if TYPE_CHECKING:
        dialect: str

        def session(self, write: bool = False) -> AbstractContextManager[Session]: ...

    def create_gate_report(self, run_id: str, config_path: str | None) -> GateReportOut:
        """A new pending report for the run (NotFound if the run does not exist)."""
        with self.session(write=True) as s:
            if s.get(Run, run_id) is None:
                raise no_run(run_id)
            row = GateReport(
                id=uuid.uuid4().hex[:12],
                run_id=run_id,
                status=GateStatus.pending.value,
                passed=False,
                checks_json="[]",
                config_path=config_path,
                created_at=datetime.now(UTC),
            )
            s.add(row)
            s.flush()
            return gate_out(row)

    def finish_gate_report(self, report_id: str, checks: list[GateCheck]) -> GateReportOut:
        """Record the checks of a pending report: passed or failed, once (Conflict after)."""
        with self.session(write=True) as s:
            stmt = select(GateReport).where(col(GateReport.id) == report_id)
            if self.dialect == "postgresql":
                stmt = stmt.with_for_update()
            row = s.scalars(stmt).first()
            if row is None:
                raise NotFound(f"no gate report with id {report_id!r}")
            if row.status != GateStatus.pending.value:
                raise Conflict(f"gate report {report_id} is already finished ({row.status})")
            passed = not required_failures(checks)
            row.passed = passed
            row.status = (GateStatus.passed if passed else GateStatus.failed).value
            row.checks_json = json.dumps([c.model_dump(mode="json") for c in checks])
            row.finished_at = datetime.now(UTC)
            s.flush()
            return gate_out(row)

    def latest_gate_report(self, run_id: str) -> GateReportOut | None:
        """The run's newest report; None if it has none (NotFound if the run does not exist)."""
        with self.session() as s:
            if s.get(Run, run_id) is None:
                raise no_run(run_id)
            row = s.scalars(
                select(GateReport)
                .where(col(GateReport.run_id) == run_id)
                .order_by(col(GateReport.created_at).desc(), col(GateReport.id).desc())
                .limit(1)
            ).first()
            return gate_out(row) if row is not None else None

    def pending_gate_reports(self) -> list[GateReportOut]:
        """Reports still pending, oldest first: a daemon that stopped mid-evaluation
        finishes them when it starts again."""
        with self.session() as s:
            rows = s.scalars(
                select(GateReport)
                .where(col(GateReport.status) == GateStatus.pending.value)
                .order_by(col(GateReport.created_at))
            ).all()
            return [gate_out(row) for row in rows]

    def succeeded_runs_without_gate_report(self) -> list[tuple[str, str, str | None]]:
        """(id, run_dir, name) of succeeded runs that have no gate report, oldest first:
        the candidates for a run that logged a model while the daemon stopped before
        gating it."""
        reported = exists().where(col(GateReport.run_id) == col(Run.id))
        with self.session() as s:
            rows = s.execute(
                select(col(Run.id), col(Run.run_dir), col(Run.name))
                .where(col(Run.status) == RunStatus.succeeded.value, ~reported)
                .order_by(col(Run.ended_at))
            ).all()
            return [(row[0], row[1], row[2]) for row in rows]
