"""Turn table rows into wire schemas (the only place that knows both)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

from mlops_kernel.schemas import (
    ArtifactOut,
    MetricValue,
    ModuleVersionRef,
    ParamValue,
    RunDetail,
    RunSpec,
    RunStatus,
    RunSummary,
    metric_value,
)

from .models import Artifact, LatestMetric, Param, Run


def stored_metric(value: float) -> float | None:
    """NaN is stored as NULL (SQLite cannot keep NaN)."""
    return None if math.isnan(value) else value


def loaded_metric(value: float | None) -> MetricValue:
    return metric_value(math.nan if value is None else value)


def param_columns(value: ParamValue) -> tuple[str, float | None]:
    """The JSON text of a param value and its numeric form (for sorting)."""
    num: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        num = float(value) if math.isfinite(float(value)) else None
    elif isinstance(value, str):
        try:
            parsed = float(value)
            num = parsed if math.isfinite(parsed) else None
        except ValueError:
            num = None
    return json.dumps(value), num


def params_by_run(rows: Iterable[Param]) -> dict[str, dict[str, ParamValue]]:
    out: dict[str, dict[str, ParamValue]] = {}
    for p in rows:
        out.setdefault(p.run_id, {})[p.key] = json.loads(p.value_json)
    return out


def metrics_by_run(rows: Iterable[LatestMetric]) -> dict[str, dict[str, MetricValue]]:
    out: dict[str, dict[str, MetricValue]] = {}
    for m in rows:
        out.setdefault(m.run_id, {})[m.key] = loaded_metric(m.value)
    return out


def summary(
    run: Run,
    project_path: str,
    params: dict[str, ParamValue],
    metrics: dict[str, MetricValue],
    module_version: ModuleVersionRef | None = None,
) -> RunSummary:
    return RunSummary(
        id=run.id,
        project=project_path,
        entry_point=run.entry_point,
        name=run.name,
        status=RunStatus(run.status),
        status_reason=run.status_reason,
        executor=run.executor,
        isolation=run.isolation,
        params=dict(sorted(params.items())),
        metrics=dict(sorted(metrics.items())),
        created_at=run.created_at,
        started_at=run.started_at,
        ended_at=run.ended_at,
        duration_s=run.duration_s,
        exit_code=run.exit_code,
        module_version=module_version,
    )


def detail(
    run: Run,
    project_path: str,
    params: dict[str, ParamValue],
    metrics: dict[str, MetricValue],
    artifacts: Sequence[Artifact],
    module_version: ModuleVersionRef | None = None,
) -> RunDetail:
    base = summary(run, project_path, params, metrics, module_version)
    return RunDetail(
        **base.model_dump(),
        spec=RunSpec.model_validate_json(run.spec_json),
        tags=json.loads(run.tags_json),
        artifacts=[ArtifactOut(path=a.path, size=a.size, sha256=a.sha256) for a in artifacts],
        run_dir=run.run_dir,
        cancel_requested=run.cancel_requested,
        identity=run.identity,
        environment=json.loads(run.environment_json) if run.environment_json else None,
    )
