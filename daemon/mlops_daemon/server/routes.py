"""Every endpoint, declared once: its path, handler, and what it takes and returns.

Tornado's URL table and the OpenAPI document are both generated from ``ROUTES``,
so the served document cannot disagree with the server.
"""

from __future__ import annotations

from mlops_kernel.dataset_schemas import (
    DatasetAdded,
    DatasetAddRequest,
    DatasetList,
    DatasetVersionList,
    DatasetVersionOut,
    DatasetVersionQuery,
)
from mlops_kernel.notebook.jobs_schemas import (
    ExtractionJob,
    LintRequest,
    ModulesQuery,
    ModuleVersionList,
)
from mlops_kernel.notebook.schemas import ExtractionPlan, ExtractionRequest, LintReport
from mlops_kernel.schemas import (
    DaemonInfo,
    Health,
    LogChunk,
    LogQuery,
    MetricsQuery,
    ProjectList,
    RunDetail,
    RunMetrics,
    RunPage,
    RunQuery,
    RunSpec,
)

from . import dataset_handlers as ds
from . import handlers as h
from . import notebook_handlers as nb
from .gate_routes import GATE_ROUTES
from .model_routes import MODEL_ROUTES
from .routing import Operation, Route
from .serve_routes import SERVE_ROUTES

ROUTES: tuple[Route, ...] = (
    Route(
        "/health",
        h.HealthHandler,
        (Operation("get", "Is the daemon up (no token needed)", Health, public=True),),
    ),
    Route(
        "/api/openapi.json",
        h.OpenApiHandler,
        (Operation("get", "This document", None),),
    ),
    Route(
        "/api/info",
        h.InfoHandler,
        (Operation("get", "The daemon's version, store, executors and load", DaemonInfo),),
    ),
    Route(
        "/api/projects",
        h.ProjectsHandler,
        (Operation("get", "Projects that have runs", ProjectList),),
    ),
    Route(
        "/api/runs",
        h.RunsHandler,
        (
            Operation(
                "get",
                "List runs: filtered, sorted by any column, metric or param, paginated",
                RunPage,
                query=RunQuery,
                errors=(400,),
            ),
            Operation(
                "post",
                "Submit a run; it is queued and starts when a worker is free",
                RunDetail,
                status=201,
                also=(200,),
                body=RunSpec,
                errors=(400, 404, 409, 422),
                description=(
                    "201: a new run was queued. 200 (header X-Mlops-Cache: hit): a run with "
                    "the same identity already succeeded and is returned as it is; set "
                    "`force` to run again."
                ),
            ),
        ),
    ),
    Route(
        "/api/runs/{run_id}",
        h.RunHandler,
        (Operation("get", "One run in full", RunDetail, errors=(404,)),),
    ),
    Route(
        "/api/runs/{run_id}/metrics",
        h.RunMetricsHandler,
        (
            Operation(
                "get",
                "Every point of every metric of a run (or of one key)",
                RunMetrics,
                query=MetricsQuery,
                errors=(400, 404),
            ),
        ),
    ),
    Route(
        "/api/runs/{run_id}/logs",
        h.RunLogsHandler,
        (
            Operation(
                "get",
                "The run's output from a byte offset; follow=true streams it live",
                LogChunk,
                query=LogQuery,
                errors=(400, 404),
                event_stream=True,
                description=(
                    "With follow=true the answer is a text/event-stream: `log` events "
                    "carry a LogChunk as JSON, one `end` event carries the final status."
                ),
            ),
        ),
    ),
    Route(
        "/api/runs/{run_id}/cancel",
        h.RunCancelHandler,
        (
            Operation(
                "post",
                "Cancel a run; 409 if it has already ended",
                RunDetail,
                errors=(404, 409),
            ),
        ),
    ),
    Route(
        "/api/runs/{run_id}/reproduce",
        h.RunReproduceHandler,
        (
            Operation(
                "post",
                "Run an ended run's identity again (same spec, dataset versions, executor)",
                RunDetail,
                status=201,
                errors=(404, 409, 422),
            ),
        ),
    ),
    Route(
        "/api/runs/{run_id}/artifacts/{path}",
        h.RunArtifactHandler,
        (
            Operation(
                "get",
                "Download one of a run's recorded artifacts",
                None,
                errors=(404,),
                download=True,
                description=(
                    "Answers the file's bytes with its media type and "
                    "`Content-Disposition: attachment`. `path` is the artifact's path as "
                    "listed in the run's `artifacts` (it may contain slashes)."
                ),
            ),
        ),
    ),
    Route(
        "/api/lint",
        nb.LintHandler,
        (
            Operation(
                "post",
                "Lint a notebook: findings with their lessons, and a readiness checklist",
                LintReport,
                body=LintRequest,
                errors=(400, 404),
            ),
        ),
    ),
    Route(
        "/api/extractions/plan",
        nb.ExtractionPlanHandler,
        (
            Operation(
                "post",
                "Preview an extraction: its steps, inputs, outputs and module code; "
                "nothing is written",
                ExtractionPlan,
                body=ExtractionRequest,
                errors=(400, 404, 422),
            ),
        ),
    ),
    Route(
        "/api/extractions",
        nb.ExtractionsHandler,
        (
            Operation(
                "post",
                "Extract notebook cells into a tested, versioned module (a job)",
                ExtractionJob,
                status=202,
                body=ExtractionRequest,
                errors=(400, 404, 409),
                description=(
                    "Checks the notebook, the selection and the git repository at once (400, "
                    "404, 409), then queues a job that runs the notebook in a fresh kernel, "
                    "writes the module and its tests, runs them and commits: poll "
                    "`GET /api/extractions/{job_id}`. A failing cell or test fails the job "
                    "with its message and lesson."
                ),
            ),
        ),
    ),
    Route(
        "/api/extractions/{job_id}",
        nb.ExtractionHandler,
        (
            Operation(
                "get",
                "One extraction job: state, progress, result or error",
                ExtractionJob,
                errors=(404,),
            ),
        ),
    ),
    Route(
        "/api/modules",
        nb.ModulesHandler,
        (
            Operation(
                "get",
                "Recorded versions of extracted modules",
                ModuleVersionList,
                query=ModulesQuery,
                errors=(400,),
            ),
        ),
    ),
    Route(
        "/api/datasets",
        ds.DatasetsHandler,
        (
            Operation(
                "get",
                "Recorded datasets: each with its latest version and how many it has",
                DatasetList,
            ),
            Operation(
                "post",
                "Record a file or folder as a dataset version (201), or find it recorded (200)",
                DatasetAdded,
                status=201,
                also=(200,),
                body=DatasetAddRequest,
                errors=(400,),
                description=(
                    "Hashes every file (unchanged ones come from a cache) into a manifest; "
                    "the manifest's hash is the version's identity. The same content under "
                    "the same name answers 200 with the existing version; changed content "
                    "is the next version. CSV and Parquet files get their schema."
                ),
            ),
        ),
    ),
    Route(
        "/api/datasets/{name}",
        ds.DatasetVersionsHandler,
        (
            Operation(
                "get", "A dataset's versions, oldest first", DatasetVersionList, errors=(404,)
            ),
        ),
    ),
    Route(
        "/api/datasets/{name}/{version}",
        ds.DatasetVersionHandler,
        (
            Operation(
                "get",
                "One version of a dataset (a number, or 'latest') with its files and schema",
                DatasetVersionOut,
                query=DatasetVersionQuery,
                errors=(400, 404),
            ),
        ),
    ),
    *GATE_ROUTES,
    *MODEL_ROUTES,
    *SERVE_ROUTES,
)
