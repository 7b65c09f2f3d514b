"""The extension's settings, read from jupyter_server_config as ``c.MlopsLab.<name>``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from .locate import BadDaemonUrl, parse_daemon_url


class MlopsLab(Configurable):
    """Where the mlops daemon is and what JupyterLab may do with it."""

    mlops_home = Unicode(
        help="The daemon's MLOPS_HOME (its daemon.json, token and log). "
        "Default: $MLOPS_HOME, else ~/.mlops.",
    ).tag(config=True)

    daemon_url = Unicode(
        "",
        help="The daemon's URL (http://host:port). Empty: read it from $MLOPS_HOME/daemon.json.",
    ).tag(config=True)

    allow_start = Bool(
        True,
        help="Whether JupyterLab may start the daemon (`mlops daemon start`) when none runs.",
    ).tag(config=True)

    start_timeout = Float(
        60.0,
        help="How long (seconds) starting the daemon may take before it counts as failed.",
    ).tag(config=True)

    request_timeout = Float(
        120.0,
        help="How long (seconds) the daemon may take to begin answering a forwarded request. "
        "A response that has begun (a download, a followed log) is not cut off.",
    ).tag(config=True)

    @default("mlops_home")
    def _default_mlops_home(self) -> str:
        return os.environ.get("MLOPS_HOME") or str(Path.home() / ".mlops")

    @validate("daemon_url")
    def _check_daemon_url(self, proposal: Any) -> str:
        raw = str(proposal["value"]).strip()
        if not raw:
            return ""
        try:
            return parse_daemon_url(raw, loopback_only=False)
        except BadDaemonUrl as exc:
            raise TraitError(f"MlopsLab.daemon_url: {exc}") from None

    @validate("start_timeout", "request_timeout")
    def _check_positive(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if value <= 0:
            raise TraitError(f"MlopsLab.{proposal['trait'].name} must be positive, not {value}")
        return value

    @property
    def home(self) -> Path:
        """``mlops_home`` as an absolute path (``~`` expanded)."""
        return Path(self.mlops_home).expanduser().absolute()
