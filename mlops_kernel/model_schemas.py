"""Wire schemas of the model registry, gates and serving endpoints, served as OpenAPI.

``/api/models...`` (registry and stages), ``/api/runs/{id}/gate`` (gate reports) and
``/serve/{model}/{alias}`` (predictions).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from mlops_kernel.models.manifest import ModelSignature, ParityResult, PreprocessInfo
from mlops_kernel.schemas import Strict

MODEL_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
ModelName = Annotated[str, StringConstraints(pattern=rf"^{MODEL_NAME}$")]
ALIAS = r"[a-z][a-z0-9-]{0,62}"
AliasName = Annotated[str, StringConstraints(pattern=rf"^{ALIAS}$")]
"""``dev``, ``staging``, ``production``, or any custom one such as ``production-eu``."""
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
STANDARD_ALIASES = ("dev", "staging", "production")


# -- gates -------------------------------------------------------------------


class CheckStatus(StrEnum):
    passed = "passed"
    failed = "failed"
    skipped = "skipped"
    """Not applicable to this run (e.g. no production model to compare with yet)."""
    error = "error"
    """The check itself could not be carried out (counts as failed when required)."""


CheckKind = Literal[
    "config",
    "tests",
    "onnx_valid",
    "metric",
    "no_regression",
    "data",
    "fairness",
    "onnx_parity",
    "reproducible",
]


class GateCheck(BaseModel):
    name: str = Field(description="e.g. 'tests', 'onnx_valid', 'metric:accuracy', 'fairness'.")
    kind: CheckKind
    status: CheckStatus
    required: bool = Field(description="A required check must pass before promotion.")
    model: str | None = Field(default=None, description="The logged model it concerns, if one.")
    measured: str | None = Field(default=None, description="What was measured, as text.")
    threshold: str | None = Field(default=None, description="What it had to be, as text.")
    evidence: str = Field(default="", description="Test output, the values compared, ...")
    lesson: str = Field(description="What this check protects against, in a sentence or two.")


class GateStatus(StrEnum):
    pending = "pending"
    passed = "passed"
    failed = "failed"


class GateReportOut(BaseModel):
    id: str
    run_id: str
    status: GateStatus
    passed: bool = Field(description="Every required check passed.")
    checks: list[GateCheck]
    config_path: str | None = Field(description="The mlops.toml read, or None for the defaults.")
    created_at: datetime
    finished_at: datetime | None = None


class GateQuery(Strict):
    wait: bool = Field(default=False, description="Wait until a pending report is finished.")


# -- registry ----------------------------------------------------------------


class ModelVersionOut(BaseModel):
    id: str
    model: str
    version: int
    run_id: str
    flavor: str
    task: str
    onnx_sha256: str
    signature: ModelSignature
    preprocess: PreprocessInfo | None = None
    parity: ParityResult | None = None
    input_columns: list[str] | None = None
    sample_input: list[list[Any]] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list, description="Aliases pointing at it now.")
    gate: GateReportOut | None = Field(default=None, description="Its run's latest gate report.")
    created_at: datetime


class AliasOut(BaseModel):
    alias: str
    version: int
    version_id: str
    cut_out: bool = False
    cut_out_reason: str | None = None
    updated_at: datetime


class ModelEventOut(BaseModel):
    """One recorded change of an alias: who did what, when and why."""

    id: int
    model: str
    alias: str | None
    action: Literal["promote", "rollback", "cutout", "restore"]
    version: int | None = Field(default=None, description="The version the alias now names.")
    previous_version: int | None = None
    override: bool = Field(default=False, description="Promoted although required checks failed.")
    gate_report_id: str | None = None
    actor: str
    reason: str | None = None
    at: datetime


class ModelSummary(BaseModel):
    name: str
    latest_version: int
    versions: int
    aliases: list[AliasOut]
    updated_at: datetime


class ModelList(BaseModel):
    models: list[ModelSummary]


class ModelDetail(BaseModel):
    name: str
    versions: list[ModelVersionOut] = Field(description="Newest first.")
    aliases: list[AliasOut]
    events: list[ModelEventOut] = Field(description="Newest first.")


class PromoteRequest(Strict):
    version: Annotated[int, Field(ge=1)]
    alias: AliasName
    override: bool = Field(
        default=False, description="Promote although required checks failed; needs a reason."
    )
    reason: Reason | None = None


class RollbackRequest(Strict):
    alias: AliasName
    reason: Reason | None = None


class CutoutRequest(Strict):
    alias: AliasName | None = Field(default=None, description="None: every alias of the model.")
    reason: Reason


class RestoreRequest(Strict):
    alias: AliasName | None = Field(default=None, description="None: every alias of the model.")
    reason: Reason | None = None


# -- serving -----------------------------------------------------------------


class ServeRequest(Strict):
    inputs: list[list[Any]] = Field(
        min_length=1, max_length=100_000, description="A batch of raw input rows."
    )


class ServeResponse(BaseModel):
    model: str
    alias: str
    version: int
    outputs: list[Any] = Field(description="One prediction per input row.")
    latency_ms: float


class ServingStats(BaseModel):
    """What the daemon measured while serving one alias of a model (since it started)."""

    model: str
    alias: str
    count: int = Field(description="Requests answered for this alias (successes and errors).")
    errors: int = Field(description="Requests refused or failed: bad input, cut out, ...")
    p50_ms: float | None = Field(description="Median latency of the recent successes.")
    p99_ms: float | None = Field(description="99th percentile (nearest rank) of the same.")
    window: int = Field(description="Successes the percentiles are computed over (at most 10,000).")


class ServingStatsList(BaseModel):
    model: str
    aliases: list[ServingStats] = Field(description="Each alias served since the daemon started.")
