"""The model registry's routes (``MODEL_ROUTES``), spliced into ``routes.ROUTES``."""

from __future__ import annotations

from mlops_kernel.model_schemas import (
    CutoutRequest,
    ModelDetail,
    ModelList,
    ModelVersionOut,
    PromoteRequest,
    RestoreRequest,
    RollbackRequest,
)

from . import model_handlers as mh
from .routing import Operation, Route

ACTOR = (
    " The `X-Mlops-Actor` header names who made the change (recorded in the model's events;"
    " `unknown` without it)."
)


ChangeBody = (
    type[PromoteRequest] | type[RollbackRequest] | type[CutoutRequest] | type[RestoreRequest]
)


def _change(summary: str, body: ChangeBody, description: str) -> Operation:
    return Operation(
        "post",
        summary,
        ModelDetail,
        body=body,
        errors=(400, 404, 409),
        description=description + ACTOR,
    )


MODEL_ROUTES: tuple[Route, ...] = (
    Route(
        "/api/models",
        mh.ModelsHandler,
        (Operation("get", "Registered models: versions and aliases of each", ModelList),),
    ),
    Route(
        "/api/models/{name}",
        mh.ModelHandler,
        (
            Operation(
                "get",
                "One model: its versions (with gate reports), aliases and change history",
                ModelDetail,
                errors=(404,),
            ),
        ),
    ),
    Route(
        "/api/models/{name}/versions/{version}",
        mh.ModelVersionHandler,
        (
            Operation(
                "get",
                "One version of a model, with its aliases and its run's latest gate report",
                ModelVersionOut,
                errors=(404,),
            ),
        ),
    ),
    Route(
        "/api/models/{name}/promote",
        mh.PromoteHandler,
        (
            _change(
                "Point an alias at a version whose gates passed",
                PromoteRequest,
                "409 when the version's run has no passed gate report (pending, failed or "
                "none) or the alias already names it. `override` promotes despite failed "
                "checks and needs a `reason` (400 without one); it is recorded.",
            ),
        ),
    ),
    Route(
        "/api/models/{name}/rollback",
        mh.RollbackHandler,
        (
            _change(
                "Point an alias back at the version it named before",
                RollbackRequest,
                "Each roll-back undoes one more promotion of the alias; 409 when there is "
                "no earlier version.",
            ),
        ),
    ),
    Route(
        "/api/models/{name}/cutout",
        mh.CutoutHandler,
        (
            _change(
                "Stop serving an alias (or every alias of the model) at once",
                CutoutRequest,
                "Serving answers 503 for a cut-out alias until it is restored; 409 when "
                "there is nothing to cut out.",
            ),
        ),
    ),
    Route(
        "/api/models/{name}/restore",
        mh.RestoreHandler,
        (
            _change(
                "Serve a cut-out alias (or every cut-out alias of the model) again",
                RestoreRequest,
                "409 when there is nothing to restore.",
            ),
        ),
    ),
)
