"""Typed wire schemas: defined once here, served as OpenAPI by the daemon.

Everything that crosses the HTTP boundary is one of these models. They are
plain pydantic models (no tables, no server imports), so a notebook kernel, a
training container, the daemon and the CLI all share the same definitions.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

API_VERSION = "1"

ParamValue = str | int | float | bool | None
NonFinite = Literal["NaN", "Infinity", "-Infinity"]
MetricValue = float | NonFinite

ParamKey = Annotated[str, StringConstraints(min_length=1, max_length=250)]
NO_NUL = r"^[^\x00]*$"
"""No NUL character: a path or module name cannot hold one (the OS refuses it)."""
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=250)]
DATASET_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
DatasetName = Annotated[str, StringConstraints(pattern=rf"^{DATASET_NAME}$")]
DatasetRef = Annotated[str, StringConstraints(pattern=rf"^{DATASET_NAME}(@[1-9][0-9]{{0,8}})?$")]
"""``name`` (the latest version) or ``name@3`` (that version)."""
ExecutorKind = Literal["auto", "local", "docker"]


def metric_value(value: float) -> MetricValue:
    """A float as it travels in JSON: non-finite values become strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class Strict(BaseModel):
    """Input models refuse unknown fields, so a typo is a 400, not silence."""

    model_config = ConfigDict(extra="forbid")


class RunStatus(StrEnum):
    queued = "queued"
    preparing = "preparing"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    lost = "lost"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.lost}
)


class Resources(Strict):
    """Limits for one run. None means no limit."""

    cpus: Annotated[float, Field(gt=0, le=1024)] | None = Field(
        default=None, description="CPU cores the run may use (affinity and thread counts)."
    )
    memory_mb: Annotated[int, Field(ge=16, le=16 * 1024 * 1024)] | None = Field(
        default=None, description="Memory limit in MiB."
    )
    gpus: Annotated[int, Field(ge=0, le=64)] = Field(
        default=0, description="Number of GPUs to expose to the run."
    )
    timeout_s: Annotated[float, Field(gt=0, le=30 * 24 * 3600)] | None = Field(
        default=None, description="Wall-clock limit in seconds."
    )


class RunSpec(Strict):
    """What to run: the request body of ``POST /api/runs``."""

    project: Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=NO_NUL)] = (
        Field(description="Absolute path of the project directory.")
    )
    entry_point: Annotated[
        str, StringConstraints(min_length=1, max_length=1024, pattern=NO_NUL)
    ] = Field(description="A script path relative to the project, or 'package.module:function'.")
    params: dict[ParamKey, ParamValue] = Field(default_factory=dict)
    env: dict[EnvName, Annotated[str, StringConstraints(max_length=32768)]] = Field(
        default_factory=dict,
        description="Environment variables for the run (nothing else is inherited).",
    )
    resources: Resources = Field(default_factory=Resources)
    executor: ExecutorKind = Field(
        default="auto",
        description="'auto' is Docker when an engine answers, else the local executor.",
    )
    datasets: list[DatasetRef] = Field(
        default_factory=list,
        max_length=64,
        description="Recorded datasets the run reads, as 'name' (latest) or 'name@version'.",
    )
    network: bool = Field(
        default=False, description="Let a containerised run reach the network (off by default)."
    )
    force: bool = Field(
        default=False,
        description="Run even when a run with the same identity already succeeded.",
    )
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


class ArtifactOut(BaseModel):
    path: str
    size: int
    sha256: str | None = None


class ModuleVersionRef(BaseModel):
    """The extracted module version a run trained (``mlops extract``), in short."""

    id: str
    module: str = Field(description="Importable module, e.g. 'pkg.name'.")
    version: int
    git_sha: str | None


class RunSummary(BaseModel):
    id: str
    project: str
    entry_point: str
    name: str | None
    status: RunStatus
    status_reason: str | None
    executor: str = Field(description="The executor that ran it: 'local' or 'docker'.")
    isolation: str | None = Field(
        default=None,
        description="How it was isolated: 'process' (local) or 'container' (docker).",
    )
    params: dict[str, ParamValue]
    metrics: dict[str, MetricValue] = Field(description="The latest value of each metric.")
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    exit_code: int | None
    module_version: ModuleVersionRef | None = Field(
        default=None,
        description="The extracted module version of the entry point when it was submitted.",
    )


class RunDetail(RunSummary):
    spec: RunSpec
    tags: dict[str, str]
    artifacts: list[ArtifactOut]
    run_dir: str
    cancel_requested: bool
    identity: str | None = Field(
        default=None,
        description="Hash of module version, params, datasets, environment, seed and executor.",
    )
    environment: dict[str, Any] | None = Field(
        default=None,
        description="What the executor recorded: engine, image, environment lock, GPUs.",
    )
    datasets: list[str] = Field(
        default_factory=list,
        description="The dataset versions the run was given, pinned: 'iris@2'.",
    )


class RunPage(BaseModel):
    runs: list[RunSummary]
    total: int
    page: int
    per_page: int


class MetricSeries(BaseModel):
    key: str
    steps: list[int]
    values: list[MetricValue]
    times: list[int] = Field(description="Milliseconds since the epoch.")


class RunMetrics(BaseModel):
    run_id: str
    series: list[MetricSeries]


class LogChunk(BaseModel):
    run_id: str
    offset: int
    next_offset: int
    text: str
    complete: bool = Field(
        description="True when the run has ended and this is the end of its log."
    )


class ProjectOut(BaseModel):
    id: int
    path: str
    name: str
    created_at: datetime
    run_count: int


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    api_version: str


class DaemonInfo(BaseModel):
    version: str
    api_version: str
    home: str
    database: str = Field(description="The database dialect: sqlite or postgresql.")
    executors: list[str]
    concurrency: int
    runs_active: int
    runs_queued: int


class ErrorBody(BaseModel):
    error: str = Field(description="A stable machine-readable code, e.g. 'not_found'.")
    message: str = Field(description="What went wrong and what to do about it.")
    details: list[dict[str, str]] | None = None


SORT_PATTERN = (
    r"^(created_at|started_at|ended_at|duration|status|entry_point|name|(metrics|params)\..+)$"
)


class RunQuery(Strict):
    """Query parameters of ``GET /api/runs``."""

    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=500)] = 50
    sort: Annotated[str, StringConstraints(max_length=300)] = Field(
        default="created_at",
        json_schema_extra={"pattern": SORT_PATTERN},
        description=(
            "created_at, started_at, ended_at, duration, status, entry_point, "
            "metrics.<key> or params.<key>."
        ),
    )
    order: Literal["asc", "desc"] = "desc"
    status: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Comma-separated statuses to keep."
    )
    project: Annotated[str, StringConstraints(max_length=4096)] | None = Field(
        default=None, description="A project's absolute path or numeric id."
    )

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        if not re.match(SORT_PATTERN, value):
            raise ValueError(
                f"cannot sort by {value!r}: use created_at, started_at, ended_at, duration, "
                "status, entry_point, name, metrics.<key> or params.<key>"
            )
        return value


class LogQuery(Strict):
    """Query parameters of ``GET /api/runs/{run_id}/logs``."""

    offset: Annotated[int, Field(ge=0)] = 0
    max_bytes: Annotated[int, Field(ge=1, le=16 * 1024 * 1024)] = 1024 * 1024
    follow: bool = Field(
        default=False,
        description="Stream the log as server-sent events until the run ends.",
    )


class MetricsQuery(Strict):
    """Query parameters of ``GET /api/runs/{run_id}/metrics``."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=250)] | None = None
