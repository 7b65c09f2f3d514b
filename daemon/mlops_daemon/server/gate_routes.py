"""The gate endpoints, declared once (spliced into ``routes.ROUTES``)."""

from __future__ import annotations

from mlops_kernel.model_schemas import GateQuery, GateReportOut

from . import gate_handlers as g
from .routing import Operation, Route

GATE_ROUTES: tuple[Route, ...] = (
    Route(
        "/api/runs/{run_id}/gate",
        g.GateHandler,
        (
            Operation(
                "get",
                "The run's latest gate report: every check with its value, threshold, "
                "evidence and lesson",
                GateReportOut,
                query=GateQuery,
                errors=(400, 404),
                description=(
                    "A report is `pending` while its checks run; `wait=true` answers once "
                    "it is finished. 404 when the run's gates were never evaluated (runs "
                    "that log a model are evaluated when they succeed; others on request)."
                ),
            ),
            Operation(
                "post",
                "Evaluate the run's gates again (answers the new pending report)",
                GateReportOut,
                status=202,
                errors=(404, 409),
                description="409 when the run has not succeeded.",
            ),
        ),
    ),
)
