"""What every handler of the extension shares: its settings, JSON errors, the URL header."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from .config import MlopsLab
from .launcher import Launcher
from .locate import BadDaemonUrl, parse_daemon_url
from .status import Probe, StatusBody

SETTINGS_KEY = "mlops_lab"
DAEMON_URL_HEADER = "X-Mlops-Daemon-Url"
DAEMON_URL_QUERY = "mlops_daemon_url"
"""The same as the header, for links the browser follows itself (downloads send no headers)."""

ERROR_CODES = {
    400: "invalid_input",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


@dataclass(frozen=True)
class LabContext:
    """The extension's state, kept in the tornado settings under ``SETTINGS_KEY``."""

    config: MlopsLab
    launcher: Launcher


class LabError(web.HTTPError):
    """An error answered as ``{"error": code, "message": message}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, "%s", message)
        self.code = code
        self.message = message


class MlopsHandler(APIHandler):
    """Base of the extension's handlers (JSON errors, never a traceback)."""

    auth_resource = "mlops"

    @property
    def lab(self) -> LabContext:
        context = self.settings[SETTINGS_KEY]
        assert isinstance(context, LabContext)
        return context

    @property
    def root_dir(self) -> str:
        """The server's root directory, absolute: notebook paths are relative to it."""
        root = str(getattr(self.contents_manager, "root_dir", "") or os.getcwd())
        return os.path.realpath(os.path.expanduser(root))

    def explicit_daemon_url(self) -> str | None:
        """The daemon URL to use instead of daemon.json: the header's (or the query's, for
        links), else the config's."""
        source, raw = DAEMON_URL_HEADER, self.request.headers.get(DAEMON_URL_HEADER, "").strip()
        if not raw:
            source, raw = DAEMON_URL_QUERY, self.get_query_argument(DAEMON_URL_QUERY, "").strip()
        if raw:
            try:
                return parse_daemon_url(raw, loopback_only=True)
            except BadDaemonUrl as exc:
                raise LabError(400, "invalid_daemon_url", f"{source}: {exc}") from None
        return self.lab.config.daemon_url or None

    def status_body(self, probe: Probe) -> StatusBody:
        config = self.lab.config
        return probe.body(root_dir=self.root_dir, home=config.home, can_start=config.allow_start)

    def send_json(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, LabError):
            code, message = exc.code, exc.message
        elif isinstance(exc, web.HTTPError) and exc.log_message:
            code = ERROR_CODES.get(status_code, "error")
            message = exc.log_message % exc.args if exc.args else exc.log_message
        elif status_code < 500:
            code, message = ERROR_CODES.get(status_code, "error"), _phrase(status_code)
        else:
            code = "internal_error"
            message = "the mlops extension hit an unexpected error; the Jupyter server log has it"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": code, "message": message}))


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "error"
