"""Turn registry rows (model versions, gate reports, aliases, events) into wire schemas,
and the reads (inside a session) that gather them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from mlops_kernel.model_schemas import (
    AliasOut,
    GateCheck,
    GateReportOut,
    GateStatus,
    ModelEventOut,
    ModelVersionOut,
)
from mlops_kernel.models.manifest import ModelManifest

from .models import GateReport, ModelAlias, ModelEvent, ModelVersion

EventAction = Literal["promote", "rollback", "cutout", "restore"]


def manifest_of(row: ModelVersion) -> ModelManifest:
    return ModelManifest.model_validate_json(row.manifest_json)


def version_out(
    row: ModelVersion, aliases: Iterable[str] = (), gate: GateReport | None = None
) -> ModelVersionOut:
    manifest = manifest_of(row)
    return ModelVersionOut(
        id=row.id,
        model=row.model,
        version=row.version,
        run_id=row.run_id,
        flavor=row.flavor,
        task=row.task,
        onnx_sha256=row.onnx_sha256,
        signature=manifest.signature,
        preprocess=manifest.preprocess,
        parity=manifest.parity,
        input_columns=manifest.input_columns,
        sample_input=manifest.sample_input,
        aliases=sorted(aliases),
        gate=gate_out(gate) if gate is not None else None,
        created_at=row.created_at,
    )


def gate_out(row: GateReport) -> GateReportOut:
    checks = [GateCheck.model_validate(c) for c in json.loads(row.checks_json)]
    return GateReportOut(
        id=row.id,
        run_id=row.run_id,
        status=GateStatus(row.status),
        passed=row.passed,
        checks=checks,
        config_path=row.config_path,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def alias_out(row: ModelAlias, version: int) -> AliasOut:
    return AliasOut(
        alias=row.alias,
        version=version,
        version_id=row.version_id,
        cut_out=row.cut_out,
        cut_out_reason=row.cut_out_reason,
        updated_at=row.updated_at,
    )


def event_out(row: ModelEvent, numbers: Mapping[str, int]) -> ModelEventOut:
    """``numbers``: version id -> version number, for the model's versions."""
    return ModelEventOut(
        id=row.id or 0,
        model=row.model,
        alias=row.alias,
        action=cast(EventAction, row.action),
        version=numbers.get(row.version_id) if row.version_id else None,
        previous_version=numbers.get(row.previous_version_id) if row.previous_version_id else None,
        override=row.override,
        gate_report_id=row.gate_report_id,
        actor=row.actor,
        reason=row.reason,
        at=row.at,
    )


def latest_reports(s: Session, run_ids: Iterable[str]) -> dict[str, GateReport]:
    """The newest gate report of each run that has one."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    rows = s.scalars(
        select(GateReport)
        .where(col(GateReport.run_id).in_(ids))
        .order_by(col(GateReport.created_at), col(GateReport.id))
    )
    return {row.run_id: row for row in rows}  # later (newer) rows win


def aliases_by_version(rows: Iterable[ModelAlias]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row.version_id, []).append(row.alias)
    return out


def versions_out(s: Session, rows: Sequence[ModelVersion]) -> list[ModelVersionOut]:
    """Each version with the aliases naming it and its run's latest gate report."""
    ids = [r.id for r in rows]
    named = aliases_by_version(
        s.scalars(select(ModelAlias).where(col(ModelAlias.version_id).in_(ids)))
    )
    gates = latest_reports(s, (r.run_id for r in rows))
    return [version_out(r, named.get(r.id, ()), gates.get(r.run_id)) for r in rows]


def numbers(s: Session, model: str | None) -> dict[str, int]:
    """Version id -> number, for one model's versions (None: every model's)."""
    stmt = select(col(ModelVersion.id), col(ModelVersion.version))
    if model is not None:
        stmt = stmt.where(col(ModelVersion.model) == model)
    return {str(i): int(v) for i, v in s.execute(stmt).all()}


def aliases(s: Session, model: str) -> list[ModelAlias]:
    """A model's aliases, by name."""
    return list(
        s.scalars(
            select(ModelAlias).where(col(ModelAlias.model) == model).order_by(col(ModelAlias.alias))
        )
    )
