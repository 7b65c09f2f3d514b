"""Wire schemas of notebook analysis, lint and extraction (served as OpenAPI by the daemon).

Plain pydantic models, shared by the kernel side (which computes them), the daemon
(which serves them) and the CLI (which prints them).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from mlops_kernel.schemas import NO_NUL, Strict

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)]


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"


class Finding(BaseModel):
    """One lint lesson: what is wrong, where, why it matters and how to fix it."""

    id: str = Field(description="stable identifier, e.g. 'hidden-state'")
    severity: Severity
    cell: int | None = Field(description="0-based index of the cell in the notebook, if any")
    cell_id: str | None = None
    line: int | None = Field(default=None, description="1-based line in the cell, if known")
    message: str = Field(description="one line: what was found")
    lesson: str = Field(description="why it matters in production and how to fix it")


class CheckItem(BaseModel):
    id: str
    label: str
    passed: bool
    detail: str = ""


class Readiness(BaseModel):
    score: int = Field(ge=0, le=100)
    checklist: list[CheckItem]


class CellSummary(BaseModel):
    """What one code cell defines and reads (the def-use graph's node)."""

    index: int
    cell_id: str | None
    kind: str = Field(description="'code', 'markdown' or 'raw'")
    execution_count: int | None
    defines: list[str]
    reads: list[str]
    imports: list[str]
    magics: list[str] = Field(description="IPython lines stripped from the code, as written")
    depends_on: list[int] = Field(description="cells whose definitions this cell reads")
    syntax_error: str | None = None


class LintReport(BaseModel):
    notebook: str
    findings: list[Finding]
    readiness: Readiness
    cells: list[CellSummary]


class StepPlan(BaseModel):
    name: str
    cells: list[int]
    inputs: list[str]
    outputs: list[str]
    dropped: list[str] = Field(description="display-only code left out, as 'cell N: code'")


class ExtractionRequest(Strict):
    notebook: Annotated[str, StringConstraints(min_length=1, pattern=NO_NUL)]
    project: Annotated[str, StringConstraints(min_length=1, pattern=NO_NUL)] | None = Field(
        default=None, description="project directory; default: the notebook's directory"
    )
    cells: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, description="0-based cell indices to extract; default: every code cell"
    )
    name: Identifier | None = Field(
        default=None, description="module name; default from the notebook"
    )
    package: Identifier | None = Field(
        default=None, description="package; default from the project"
    )
    metrics: list[str] = Field(
        default_factory=list, description="extra metrics: a variable name, or NAME=EXPRESSION"
    )
    params: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    seed: int = 0
    git_init: bool = Field(default=False, description="run 'git init' if the project is not a repo")
    fixture_cap_mb: float = Field(
        default=20.0,
        gt=0,
        le=10_000,
        description="largest stored inputs of one step (MB); larger steps are tested by replay",
    )


class ExtractionPlan(BaseModel):
    notebook: str
    project: str
    package: str
    name: str
    module_path: str = Field(description="relative to the project, e.g. 'pkg/name.py'")
    test_path: str
    steps: list[StepPlan]
    inputs: list[str] = Field(description="free names the selection reads from outside it")
    outputs: list[str] = Field(description="names the selection defines that later cells read")
    params: dict[str, str] = Field(description="parameter name -> Python type")
    param_defaults: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        description="parameter name -> its default from the parameters cell (scalars only)",
    )
    module_source: str
    test_source: str = Field(
        default="",
        description=(
            "A preview of the generated tests: their shape and names. The values they "
            "compare are captured when the extraction runs the notebook."
        ),
    )
    findings: list[Finding]
    readiness: Readiness
    cells: list[CellSummary]


class ExtractionResult(BaseModel):
    notebook: str
    project: str
    module: str = Field(description="importable module, e.g. 'pkg.name'")
    module_path: str
    test_path: str
    entry_point: str = Field(description="e.g. 'pkg.name:main'")
    content_hash: str
    notebook_hash: str
    cell_ids: list[str]
    git_sha: str | None
    changed: bool = Field(description="false when the module was already at this content")
    diff: str = Field(default="", description="unified diff against the previous version")
    metrics: dict[str, float] = Field(description="metric values the notebook run produced")
    tests_passed: int
    findings: list[Finding]
    version: int | None = Field(default=None, description="module version number (daemon)")
    version_id: str | None = None
