"""The base handler: bearer-token auth, typed request parsing, JSON replies,
and the one place where exceptions become HTTP status codes.
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from tornado.web import HTTPError, RequestHandler

from mlops_kernel.schemas import ErrorBody

from ..errors import InvalidInput, MlopsError, NotFound, Unauthorized

log = logging.getLogger("mlops_daemon.api")
M = TypeVar("M", bound=BaseModel)

HTTP_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
}


class ApiHandler(RequestHandler):
    """Every endpoint derives from this. Set ``public = True`` to skip the token."""

    public = False

    def initialize(self, **deps: Any) -> None:
        self.deps = deps

    @property
    def token(self) -> str:
        return str(self.settings["mlops_token"])

    def prepare(self) -> None:
        if self.public:
            return
        header = self.request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            raise Unauthorized(
                "a valid 'Authorization: Bearer <token>' header is required; "
                "the token is in $MLOPS_HOME/token"
            )

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated API: no cookies are used, so no XSRF to check."""

    # -- parsing ----------------------------------------------------------------

    def body(self, model: type[M]) -> M:
        try:
            data = json.loads(self.request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidInput(f"the request body must be a JSON object ({model.__name__})")
        return validate(model, data, "request body")

    def query(self, model: type[M]) -> M:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        return validate(model, args, "query")

    # -- replies ------------------------------------------------------------------

    def send(self, model: BaseModel, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(model.model_dump_json())

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsError):
            status_code = exc.http_status
        super().send_error(status_code, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsError):
            body = ErrorBody(error=exc.code, message=exc.message, details=exc.details)
        elif isinstance(exc, HTTPError) and exc.log_message:
            body = ErrorBody(error=HTTP_CODES.get(status_code, "error"), message=exc.log_message)
        elif status_code < 500:
            body = ErrorBody(
                error=HTTP_CODES.get(status_code, "error"), message=_phrase(status_code)
            )
        else:
            body = ErrorBody(
                error="internal_error",
                message="the daemon hit an unexpected error; its log ($MLOPS_HOME/daemon.log) "
                "has the details",
            )
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(body.model_dump_json())

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(value, MlopsError):
            log.info("%s %s -> %s: %s", self.request.method, self.request.uri, value.code, value)
            return
        super().log_exception(typ, value, tb)


class NotFoundHandler(ApiHandler):
    """Unknown paths answer with the same JSON error shape as everything else."""

    public = True

    def prepare(self) -> None:
        raise NotFound(f"no such endpoint: {self.request.path}; see /api/openapi.json")


def validate(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]) or where, "problem": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        raise InvalidInput(f"invalid {where}: {summary}", details=details) from None


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "error"
