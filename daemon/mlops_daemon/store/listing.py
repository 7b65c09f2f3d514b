"""The run table query: filters, sorting by any column, metric or param, paging."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from mlops_kernel.schemas import RunQuery, RunStatus

from ..errors import InvalidInput
from .models import LatestMetric, Param, Project, Run

COLUMN_SORTS: dict[str, Any] = {
    "created_at": col(Run.created_at),
    "started_at": col(Run.started_at),
    "ended_at": col(Run.ended_at),
    "duration": col(Run.duration_s),
    "status": col(Run.status),
    "entry_point": col(Run.entry_point),
    "name": col(Run.name),
}


def filters(session: Session, q: RunQuery) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if q.status:
        wanted = [s.strip() for s in q.status.split(",") if s.strip()]
        known = {s.value for s in RunStatus}
        bad = [s for s in wanted if s not in known]
        if bad:
            raise InvalidInput(
                f"unknown status {', '.join(bad)}; use any of {', '.join(sorted(known))}"
            )
        out.append(col(Run.status).in_(wanted))
    if q.project:
        out.append(col(Run.project_id) == project_id(session, q.project))
    return out


def project_id(session: Session, ref: str) -> int:
    """A project named by its numeric id or its path (-1 where none matches)."""
    if ref.isascii() and ref.isdigit():
        number = int(ref)
        return number if number < 2**63 else -1
    found = session.execute(select(col(Project.id)).where(col(Project.path) == ref)).scalar()
    return int(found) if found is not None else -1


def sorted_page(stmt: Any, q: RunQuery) -> Any:
    """Apply the requested order (nulls last), a stable tie-break and the page window."""
    key: Any
    if q.sort in COLUMN_SORTS:
        key = COLUMN_SORTS[q.sort]
    elif q.sort.startswith("metrics.") and len(q.sort) > len("metrics."):
        lm = aliased(LatestMetric)
        stmt = stmt.outerjoin(
            lm, and_(col(lm.run_id) == col(Run.id), col(lm.key) == q.sort[len("metrics.") :])
        )
        key = col(lm.value)
    elif q.sort.startswith("params.") and len(q.sort) > len("params."):
        pa = aliased(Param)
        stmt = stmt.outerjoin(
            pa, and_(col(pa.run_id) == col(Run.id), col(pa.key) == q.sort[len("params.") :])
        )
        key = col(pa.value_num)
        second = col(pa.value_json)
        stmt = stmt.order_by(_directed(key, q.order), _directed(second, q.order))
        key = None
    else:
        raise InvalidInput(
            f"cannot sort by {q.sort!r}: use one of {', '.join(COLUMN_SORTS)}, "
            "metrics.<key> or params.<key>"
        )
    if key is not None:
        stmt = stmt.order_by(_directed(key, q.order))
    tie = col(Run.created_at).desc() if q.order == "desc" else col(Run.created_at).asc()
    return stmt.order_by(tie, col(Run.id)).limit(q.per_page).offset((q.page - 1) * q.per_page)


def _directed(key: Any, order: str) -> Any:
    return (key.desc() if order == "desc" else key.asc()).nulls_last()


def count(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Run)
    if conditions:
        stmt = stmt.where(*conditions)
    return int(session.execute(stmt).scalar_one())
