"""Wire schemas of the daemon's notebook endpoints: lint requests, extraction jobs
and module versions (served as OpenAPI by the daemon, read by the CLI).

What the kernel computes (lint reports, plans, results) is in ``schemas.py``;
this file holds only what the daemon adds around it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from mlops_kernel.schemas import NO_NUL, Strict

from .schemas import ExtractionRequest, ExtractionResult

PathText = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=NO_NUL)]


class LintRequest(Strict):
    """The request body of ``POST /api/lint``."""

    notebook: PathText = Field(
        description="The notebook: an absolute path, or one relative to the project."
    )
    project: PathText | None = Field(
        default=None, description="Absolute project directory; default: the notebook's."
    )


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"

    @property
    def terminal(self) -> bool:
        return self in (JobState.succeeded, JobState.failed)


class JobProgress(BaseModel):
    """Where an extraction is, as the kernel last reported it."""

    stage: str = Field(description="'analyse', 'run', 'tests', 'write' or 'commit'.")
    done: int
    total: int
    message: str


class JobError(BaseModel):
    """Why an extraction failed, and what to do about it."""

    kind: str = Field(
        description="'notebook_format', 'selection', 'versioning', 'cell_execution', "
        "'generated_tests_failed', 'notebook' or 'internal'."
    )
    message: str = Field(description="One line: what went wrong.")
    cell: int | None = Field(
        default=None, description="0-based index of the failing cell in the notebook, if any."
    )
    lesson: str | None = Field(default=None, description="Why it matters and how to fix it.")
    output: str | None = Field(default=None, description="The failing tests' output, if any.")


class ExtractionJob(BaseModel):
    """One extraction the daemon runs: ``queued -> running -> succeeded | failed``."""

    id: str
    state: JobState
    notebook: str = Field(description="Absolute path of the notebook.")
    project: str = Field(description="Absolute path of the project.")
    request: ExtractionRequest
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    progress: JobProgress | None = None
    result: ExtractionResult | None = Field(
        default=None, description="Set when the job succeeded (with its module version)."
    )
    error: JobError | None = Field(default=None, description="Set when the job failed.")


class ModuleVersionOut(BaseModel):
    """One recorded version of an extracted module."""

    id: str
    project: str
    module: str = Field(description="Importable module, e.g. 'pkg.name'.")
    module_path: str = Field(description="Relative to the project, e.g. 'pkg/name.py'.")
    version: int = Field(description="1, 2, ... per project and module path.")
    content_hash: str = Field(description="'sha256:' and the hex SHA-256 of the file's bytes.")
    git_sha: str | None
    notebook_path: str
    notebook_hash: str
    cell_ids: list[str]
    diff: str = Field(description="Unified diff against the previous version.")
    created_at: datetime


class ModuleVersionList(BaseModel):
    modules: list[ModuleVersionOut]


class ModulesQuery(Strict):
    """Query parameters of ``GET /api/modules``."""

    project: Annotated[str, StringConstraints(max_length=4096)] | None = Field(
        default=None, description="A project's absolute path or numeric id; default: all."
    )
    module_path: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="Only this module file, e.g. 'pkg/name.py'."
    )
